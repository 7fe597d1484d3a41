// `npm run dist`: builds the app and the installer for this platform with electron-builder. electron-builder
// downloads the Electron binary for the target; where that download cannot happen, say so plainly.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { buildIfNeeded } from './build-if-needed';

buildIfNeeded((line) => console.error(line));
const result = spawnSync(process.execPath, [join('node_modules', 'electron-builder', 'cli.js'), '--publish', 'never', ...process.argv.slice(2)], {
  encoding: 'utf8',
  stdio: ['ignore', 'pipe', 'pipe'],
});
process.stdout.write(result.stdout ?? '');
const errors = result.stderr ?? '';
if (result.status === 0) {
  console.log('Installers are in dist/.');
} else if (/ENOTFOUND|EAI_AGAIN|ECONNREFUSED|fetch failed|getaddrinfo|unable to download|cannot download/i.test(errors + (result.stdout ?? ''))) {
  process.stderr.write(errors.split('\n').slice(-8).join('\n') + '\n');
  console.error(
    'npm run dist: electron-builder could not download the Electron binary (and its packaging tools) it needs ' +
      'for the installer: this machine has no access to their download servers. Run `npm run dist` on a machine ' +
      'with internet access, or set ELECTRON_MIRROR / ELECTRON_BUILDER_BINARIES_MIRROR to a reachable mirror.',
  );
} else {
  process.stderr.write(errors);
}
process.exitCode = result.status ?? 1;
