import { parseArgs } from 'node:util';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { StudioError } from '#shared/rpc/errors';
import type { CliCommand } from '../command';
import { announce, startBrowserMode } from '../../server';
import { rendererDir } from '../../paths';
import { applyBackendFlag } from '../options';

export const serveCommand: CliCommand = {
  name: 'serve',
  summary: 'Run the studio in browser mode on 127.0.0.1 (token-protected).',
  usage: `Usage: studio serve [--port N] [--backend auto|tensorflow|wasm|cpu]

Serves the studio's UI on 127.0.0.1 only and prints one line with its address, which carries a random
access token; every request without the token is refused. Stop with Ctrl+C.
  --port N    listen on port N (default: a free port)`,
  async run(args, io, signal) {
    const { values } = parseArgs({
      args,
      options: { port: { type: 'string' }, backend: { type: 'string' } },
      strict: true,
    });
    applyBackendFlag(values.backend);
    const port = values.port === undefined ? 0 : Number(values.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      throw new StudioError('BAD_INPUT', `--port must be a whole number from 0 to 65535, not "${values.port}".`);
    }
    if (!existsSync(join(rendererDir(), 'index.html'))) {
      throw new StudioError('NOT_FOUND', `The UI is not built (${rendererDir()} is missing). Run \`npm run build\` first.`);
    }
    const mode = await startBrowserMode({ port });
    io.out(announce(mode.server));
    await new Promise<void>((resolve) => {
      if (signal.aborted) resolve();
      else signal.addEventListener('abort', () => resolve(), { once: true });
    });
    await mode.stop();
    return 0;
  },
};
