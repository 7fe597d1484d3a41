import { parseArgs } from 'node:util';
import type { CliCommand } from '../command';
import { StudioError } from '#shared/rpc/errors';
import { TriageParamsSchema } from '#shared/restore';
import { modelRef, withEngine } from '../engine';
import { parseFlags } from '../flags';

export const triageCommand: CliCommand = {
  name: 'triage',
  summary: 'Score the photos of a folder by how damaged they look, most damaged first.',
  usage: `Usage: studio triage <folder> [--model <id|dir>] [--models-dir <dir>] [--recursive] [--json] [--backend <name>]

Runs the clean-vs-degraded classifier on every photo of the folder (averaged over a few crops at the
photo's own resolution) and lists the photos with their score, the probability that the photo is
degraded, most damaged first. Files that cannot be read are reported on stderr.

Options:
  --model <id|dir>   classifier id in the models folder, or a model folder (default: the "classifier" model)
  --models-dir <dir> the models folder to look ids up in (default: the one chosen in Settings)
  --recursive        include subfolders
  --backend <name>   auto, tensorflow, wasm or cpu
  --json             print only [{"file","score"}...] on stdout (files relative to the folder)`,
  async run(args, io, signal) {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: {
        model: { type: 'string' },
        'models-dir': { type: 'string' },
        recursive: { type: 'boolean', default: false },
        backend: { type: 'string' },
        json: { type: 'boolean', default: false },
      },
    });
    if (positionals.length !== 1) throw new StudioError('BAD_INPUT', 'Give exactly one folder of photos.');
    return withEngine({ backend: values.backend, modelsDir: values['models-dir'] }, async ({ engine, modelsDir }) => {
      const params = parseFlags(
        TriageParamsSchema,
        { dir: positionals[0], recursive: values.recursive, classifier: values.model === undefined ? undefined : modelRef(values.model), modelsDir },
        { classifier: '--model' },
      );
      const { classifier, result } = await engine.run('triage.run', params, {
        signal,
        onEvent: (e) => {
          if (e.type === 'progress') io.err(`[${e.index}/${e.total}] ${e.file}`);
        },
      });
      for (const f of result.failed) io.err(`FAILED ${f.file}: ${f.reason}`);
      const rows = result.scores.map((s) => ({ file: s.file, score: Number(s.score.toFixed(6)) }));
      if (values.json) {
        io.out(JSON.stringify(rows));
      } else {
        io.out(`Damage score (probability the photo is degraded) by "${classifier}", most damaged first:`);
        for (const r of rows) io.out(`  ${r.score.toFixed(3)}  ${r.file}`);
        if (result.failed.length) io.out(`${result.failed.length} file(s) could not be read (see above).`);
      }
      return 0;
    });
  },
};
