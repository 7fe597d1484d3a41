// `npm run serve [-- --port N]`: browser mode. Builds the UI if needed, then runs `studio serve`.
import { buildIfNeeded } from './build-if-needed';
import { main } from '../src/main/cli/index';

buildIfNeeded((line) => console.error(line));
process.exitCode = await main(['serve', ...process.argv.slice(2)]);
