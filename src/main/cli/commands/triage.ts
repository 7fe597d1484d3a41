import { parseArgs } from 'node:util';
import type { CliCommand } from '../command';
import { StudioError } from '#shared/rpc/errors';
import { initBackend } from '../../engine/backend';
import { applyBackendFlag } from '../options';
import { loadClassifier, triageFolder } from '../../engine/infer/triage';

export const triageCommand: CliCommand = {
  name: 'triage',
  summary: 'Score the photos of a folder by how damaged they look, most damaged first.',
  usage: `Usage: studio triage <folder> [--model <id|dir>] [--recursive] [--json] [--backend <name>]

Runs the clean-vs-degraded classifier on every photo of the folder (averaged over a few crops at the
photo's own resolution) and lists the photos with their score, the probability that the photo is
degraded, most damaged first. Files that cannot be read are reported on stderr.

Options:
  --model <id|dir>   classifier id in the models folder, or a model folder (default: the "classifier" model)
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
        recursive: { type: 'boolean', default: false },
        backend: { type: 'string' },
        json: { type: 'boolean', default: false },
      },
    });
    if (positionals.length !== 1) throw new StudioError('BAD_INPUT', 'Give exactly one folder of photos.');
    applyBackendFlag(values.backend);
    await initBackend();
    const classifier = await loadClassifier(values.model);
    try {
      const result = await triageFolder(
        { dir: positionals[0]!, classifier, recursive: values.recursive },
        { signal, onProgress: (p) => io.err(`[${p.index}/${p.total}] ${p.file}`) },
      );
      for (const f of result.failed) io.err(`FAILED ${f.file}: ${f.reason}`);
      const rows = result.scores.map((s) => ({ file: s.file, score: Number(s.score.toFixed(6)) }));
      if (values.json) {
        io.out(JSON.stringify(rows));
      } else {
        io.out(`Damage score (probability the photo is degraded) by "${classifier.name}", most damaged first:`);
        for (const r of rows) io.out(`  ${r.score.toFixed(3)}  ${r.file}`);
        if (result.failed.length) io.out(`${result.failed.length} file(s) could not be read (see above).`);
      }
      return 0;
    } finally {
      classifier.dispose();
    }
  },
};
