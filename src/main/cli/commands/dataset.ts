import { parseArgs } from 'node:util';
import { StudioError } from '#shared/rpc/errors';
import type { CliCommand } from '../command';
import { checkDataset } from '../../engine/data/check';
import { scanDataset } from '../../engine/data/dataset';
import { splitDataset } from '../../engine/data/split';
import type { DatasetReport, SplitReport } from '#shared/dataset';

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

function intFlag(value: string | undefined, name: string, fallback: number, min = 0, max = 2 ** 32 - 1): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new StudioError('BAD_INPUT', `--${name} must be an integer from ${min} to ${max}, got "${value}".`);
  return n;
}

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
      const minSize = intFlag(values['min-size'], 'min-size', 64, 1, 100_000);
      const showProgress = !values.json && process.stderr.isTTY;
      const { report } = await checkDataset(dir, {
        minSize,
        signal,
        onProgress: showProgress
          ? (done, total) => {
              if (done % 50 === 0 || done === total) io.err(`checked ${done}/${total}`);
            }
          : undefined,
      });
      if (values.json) io.out(JSON.stringify(report));
      else printReport(report, io);
      return report.pairs > 0 ? 0 : 1;
    }

    const val = values.val === undefined ? 0.1 : Number(values.val);
    if (!Number.isFinite(val) || val < 0 || val > 1) throw new StudioError('BAD_INPUT', `--val must be a fraction from 0 to 1, got "${values.val}".`);
    const seed = intFlag(values.seed, 'seed', 0);
    const { dataset } = await scanDataset(dir);
    if (dataset.items.length === 0) throw new StudioError(dataset.kind === 'paired' ? 'DATASET_UNPAIRED' : 'DATASET_EMPTY', `${dataset.root} has nothing to split.`);
    const split = splitDataset(dataset.items, { valFraction: val, seed });
    const report: SplitReport = { seed, valFraction: val, train: split.train.map((i) => i.id), val: split.val.map((i) => i.id) };
    if (values.json) io.out(JSON.stringify(report));
    else {
      io.out(`${dataset.items.length} items: ${split.train.length} train, ${split.val.length} validation (seed ${seed}).`);
      list('Validation', report.val, io, 50);
    }
    return 0;
  },
};
