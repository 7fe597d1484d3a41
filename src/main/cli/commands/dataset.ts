import { parseArgs } from 'node:util';
import { StudioError } from '#shared/rpc/errors';
import type { CliCommand } from '../command';
import { DatasetCheckParamsSchema, DatasetSplitParamsSchema, type DatasetReport } from '#shared/dataset';
import { withEngine } from '../engine';
import { numberFlag, parseFlags } from '../flags';

const usage = `Usage: studio dataset check <dir> [--json] [--min-size N]
       studio dataset split <dir> [--val 0.1] [--seed N] [--json]

A dataset is either a folder with degraded/ and clean/ subfolders holding files with the same names
(a.jpg pairs with a.png when only the extension differs), or a folder of clean photos alone, whose
degraded inputs are synthesised during training (see \`studio synth\`).

check   decodes every file and reports pairs, files without a partner, pairs whose sizes differ,
        unreadable or corrupt files, non-images, duplicates (identical bytes), and what will be used.
        Never stops at a bad file.
  --json        one JSON line: {"pairs","unpaired","sizeMismatch","unreadable","nonImages","duplicates",...}
                (paths relative to <dir>)
  --min-size N  leave out images with a side shorter than N px (default 64, the default patch size)

split   shows the deterministic train/validation split (each file's side depends only on the seed and
        its name, so adding files never moves the others).
  --val F       fraction for validation (default 0.1)
  --seed N      split seed (default 0)
  --json        one JSON line: {"seed","valFraction","train":[...],"val":[...]}`;

function list(label: string, items: string[], io: { out(line: string): void }, max = 10): void {
  if (items.length === 0) return;
  io.out(`${label} (${items.length}):`);
  for (const item of items.slice(0, max)) io.out(`  ${item}`);
  if (items.length > max) io.out(`  … and ${items.length - max} more (see --json)`);
}

function printReport(r: DatasetReport, io: { out(line: string): void }): void {
  io.out(`Dataset ${r.dir}`);
  io.out(
    r.kind === 'paired'
      ? `Paired: ${r.counts.degraded} degraded and ${r.counts.clean} clean images, ${r.pairs} usable pairs.`
      : `Clean photos only: ${r.counts.clean} images, ${r.pairs} usable; degraded inputs are synthesised on the fly.`,
  );
  if (r.sizes) io.out(`Widths ${r.sizes.minWidth}–${r.sizes.maxWidth} px, heights ${r.sizes.minHeight}–${r.sizes.maxHeight} px.`);
  const formats = Object.entries(r.formats).map(([f, n]) => `${f} ${n}`).join(', ');
  if (formats) io.out(`Formats: ${formats}.`);
  list('Without a partner', r.unpaired, io);
  list('Pairs whose sizes differ', r.sizeMismatchDetails.map((d) => `${d.degraded} ${d.degradedSize.join('x')} vs ${d.clean} ${d.cleanSize.join('x')}`), io);
  list('Unreadable', r.unreadable.map((u) => `${u.file}: ${u.reason}`), io);
  list('Not images', r.nonImages, io);
  list('Duplicates (identical bytes)', r.duplicates.map((g) => g.join(' = ')), io);
  list('Degraded identical to clean', r.identicalPairs, io);
  list(`Smaller than ${r.minSize}px`, r.tooSmall, io);
  const c = r.conversions;
  const notes = [
    c.exifRotated.length && `${c.exifRotated.length} rotated by EXIF orientation`,
    c.grayscale.length && `${c.grayscale.length} grayscale (→ RGB)`,
    c.sixteenBit.length && `${c.sixteenBit.length} 16-bit (kept, scaled to [0, 1])`,
    c.alpha.length && `${c.alpha.length} with alpha (composited on white)`,
    c.cmyk.length && `${c.cmyk.length} CMYK (→ sRGB)`,
    c.multiFrame.length && `${c.multiFrame.length} multi-frame (first frame used)`,
  ].filter(Boolean);
  if (notes.length) io.out(`Conversions: ${notes.join('; ')}.`);
  list('Left out', r.use.excluded.map((e) => `${e.id}: ${e.reason}`), io);
  io.out(r.summary);
}

export const datasetCommand: CliCommand = {
  name: 'dataset',
  summary: 'Check a dataset folder (pairs, bad files, duplicates) or show its train/validation split.',
  usage,
  async run(args, io, signal) {
    const [sub, ...rest] = args;
    if (sub !== 'check' && sub !== 'split') {
      throw new StudioError('BAD_INPUT', sub ? `Unknown dataset subcommand "${sub}" (check or split).` : 'Missing subcommand: check or split.');
    }
    const { values, positionals } = parseArgs({
      args: rest,
      allowPositionals: true,
      strict: true,
      options: {
        json: { type: 'boolean', default: false },
        'min-size': { type: 'string' },
        val: { type: 'string' },
        seed: { type: 'string' },
      },
    });
    if (positionals.length !== 1) throw new StudioError('BAD_INPUT', `studio dataset ${sub} takes one folder, got ${positionals.length}.`);
    const dir = positionals[0]!;

    if (sub === 'check') {
      const params = parseFlags(DatasetCheckParamsSchema, { dir, minSize: numberFlag(values['min-size']) });
      const showProgress = !values.json && process.stderr.isTTY;
      const { report } = await withEngine({}, ({ engine }) =>
        engine.run('dataset.check', params, {
          signal,
          onEvent: (e) => {
            if (showProgress && e.type === 'progress' && (e.done % 50 === 0 || e.done === e.total)) io.err(`checked ${e.done}/${e.total}`);
          },
        }),
      );
      if (values.json) io.out(JSON.stringify(report));
      else printReport(report, io);
      return report.pairs > 0 ? 0 : 1;
    }

    const params = parseFlags(DatasetSplitParamsSchema, { dir, valFraction: numberFlag(values.val), seed: numberFlag(values.seed) }, { valFraction: '--val' });
    const report = await withEngine({}, ({ engine }) => engine.call('dataset.split', params, { signal }));
    if (values.json) io.out(JSON.stringify(report));
    else {
      io.out(`${report.train.length + report.val.length} items: ${report.train.length} train, ${report.val.length} validation (seed ${report.seed}).`);
      list('Validation', report.val, io, 50);
    }
    return 0;
  },
};
