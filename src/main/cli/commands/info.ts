import { parseArgs } from 'node:util';
import type { CliCommand } from '../command';
import { inProcessLauncher, EngineHost } from '../../services/engine-host';
import { appVersion } from '../../services';
import { applyBackendFlag } from '../options';

export const infoCommand: CliCommand = {
  name: 'info',
  summary: 'Show the version, the engine backend in use and the backends available.',
  usage: `Usage: studio info [--json] [--backend auto|tensorflow|wasm|cpu]

Prints the studio's version, the engine backend it would use (the best that loads here unless one is
chosen with --backend or STUDIO_BACKEND), every backend that loads, threads and GPU.
  --json      one JSON line: {"version","backend","backends","threads","gpu",...}`,
  async run(args, io, signal) {
    const { values } = parseArgs({
      args,
      options: { json: { type: 'boolean', default: false }, backend: { type: 'string' } },
      strict: true,
    });
    applyBackendFlag(values.backend);
    const engine = new EngineHost(await inProcessLauncher());
    try {
      const status = await engine.call('engine.info', {}, { signal });
      const info = {
        version: appVersion(),
        backend: status.backend,
        backends: status.backends,
        threads: status.threads,
        gpu: status.gpu,
        unavailable: status.unavailable,
        platform: `${process.platform}-${process.arch}`,
        node: process.versions.node,
      };
      if (values.json) {
        io.out(JSON.stringify(info));
      } else {
        io.out(`Restoration Studio ${info.version}`);
        io.out(`Engine backend: ${info.backend} (${info.threads} thread${info.threads === 1 ? '' : 's'})`);
        io.out(`Backends available: ${info.backends.join(', ')}`);
        io.out(`GPU: ${info.gpu ?? 'none'}`);
        for (const [name, reason] of Object.entries(info.unavailable)) io.out(`Not available: ${name} (${reason})`);
      }
      return 0;
    } finally {
      engine.dispose();
    }
  },
};
