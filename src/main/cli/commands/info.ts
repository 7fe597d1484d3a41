import { parseArgs } from 'node:util';
import type { CliCommand } from '../command';
import { appVersion } from '../../services';
import { withEngine } from '../engine';

export const infoCommand: CliCommand = {
  name: 'info',
  summary: 'Show the version, the engine backend in use and the backends available.',
  usage: `Usage: studio info [--json] [--backend auto|tensorflow|wasm|cpu]

Prints the studio's version, the engine backend it would use (the best that loads here unless one is
chosen with --backend or STUDIO_BACKEND), every backend that loads, threads and GPU.
  --json      one JSON line: {"version","backend","backends","threads","gpu","tensorflow",...}

Native TensorFlow: where @tensorflow/tfjs-node-gpu could not download its library, npm run engine:native
builds it against a Python TensorFlow.`,
  async run(args, io, signal) {
    const { values } = parseArgs({
      args,
      options: { json: { type: 'boolean', default: false }, backend: { type: 'string' } },
      strict: true,
    });
    return withEngine({ backend: values.backend }, async ({ engine }) => {
      const status = await engine.call('engine.info', {}, { signal });
      const info = {
        version: appVersion(),
        backend: status.backend,
        backends: status.backends,
        threads: status.threads,
        gpu: status.gpu,
        unavailable: status.unavailable,
        detail: status.detail,
        tensorflow: status.tensorflow ?? null,
        platform: `${process.platform}-${process.arch}`,
        node: process.versions.node,
      };
      if (values.json) {
        io.out(JSON.stringify(info));
      } else {
        io.out(`Restoration Studio ${info.version}`);
        io.out(`Engine backend: ${info.backend} (${info.threads} thread${info.threads === 1 ? '' : 's'})`);
        io.out(`Backends available: ${info.backends.join(', ')}`);
        if (info.detail) io.out(`Runs as: ${info.detail}`);
        if (info.tensorflow) io.out(`TensorFlow: ${info.tensorflow.version} on ${info.tensorflow.device}, ${info.tensorflow.origin}`);
        io.out(`GPU: ${info.gpu ?? 'none'}`);
        for (const [name, reason] of Object.entries(info.unavailable)) io.out(`Not available: ${name} (${reason})`);
        if (status.nativeHint) io.out(status.nativeHint);
      }
      return 0;
    });
  },
};
