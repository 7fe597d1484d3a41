import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { CliCommand } from '../command';
import { StudioError } from '#shared/rpc/errors';
import { initBackend } from '../../engine/backend';
import { applyBackendFlag } from '../options';
import { FORMAT_CHOICES, type FormatChoice } from '../../engine/infer/photo';
import { loadRestoreModel } from '../../engine/infer/model';
import { restoreBatch, type RestoreProgress } from '../../engine/infer/batch';

function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

function wholeNumber(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) throw new StudioError('BAD_INPUT', `${flag} needs a whole number (got "${value}").`);
  return Number(value);
}

export const restoreCommand: CliCommand = {
  name: 'restore',
  summary: 'Restore a photo or a folder of photos into a new folder (resumable).',
  usage: `Usage: studio restore <input-file-or-folder> [options]

Restores every photo of a folder (or one photo) with a restoration model and writes the results to a new
folder; the originals are never written. Photos of any size are restored tile by tile. EXIF (orientation
applied once), the ICC profile, alpha, grayscale and 16-bit depth are kept where the format allows.
A journal in the output folder makes the batch resumable: rerun the same command after a crash or Ctrl+C
and finished files are skipped. A file that cannot be read is reported and the batch goes on.

Options:
  --out <dir>        output folder (default: <input folder>-restored beside the input folder)
  --model <id|dir>   model id in the models folder, or a model folder (package or tfjs model.json folder);
                     default: the bundled "old-photo" model
  --recursive        include subfolders (mirrored in the output folder)
  --format <f>       keep (default), png, jpeg or webp
  --quality <n>      JPEG/WebP quality 1-100 (default 92)
  --tile <n>         tile size in pixels (default: chosen from available memory)
  --retry-failed     process only the files that failed in earlier runs
  --tone <0..1>      after the model, bring back faded tones and remove a yellowed cast at this strength
                     (off by default; monochrome and sepia photos stay so; a photo that is not faded is
                     left as it is)
  --backend <name>   auto, tensorflow, wasm or cpu
  --json             print only a final JSON summary line on stdout:
                     {"done","skipped","failed":[{"file","reason"}],"out","megapixelsPerSecond"}

Progress goes to stderr. Exit code 0 when every file was restored or skipped, 1 when some failed (or on an
error), 130 when cancelled.`,
  async run(args, io, signal) {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: {
        out: { type: 'string' },
        model: { type: 'string' },
        recursive: { type: 'boolean', default: false },
        format: { type: 'string', default: 'keep' },
        quality: { type: 'string' },
        tile: { type: 'string' },
        'retry-failed': { type: 'boolean', default: false },
        tone: { type: 'string' },
        backend: { type: 'string' },
        json: { type: 'boolean', default: false },
      },
    });
    if (positionals.length !== 1) throw new StudioError('BAD_INPUT', 'Give exactly one input: a photo or a folder of photos.');
    const format = values.format as FormatChoice;
    if (!FORMAT_CHOICES.includes(format)) throw new StudioError('BAD_INPUT', `--format must be one of ${FORMAT_CHOICES.join(', ')} (got "${values.format}").`);
    const quality = wholeNumber(values.quality, '--quality');
    if (quality !== undefined && (quality < 1 || quality > 100)) throw new StudioError('BAD_INPUT', `--quality must be from 1 to 100 (got ${quality}).`);
    const tone = values.tone === undefined ? undefined : Number(values.tone);
    if (tone !== undefined && !(Number.isFinite(tone) && tone >= 0 && tone <= 1)) {
      throw new StudioError('BAD_INPUT', `--tone is a strength from 0 to 1 (got "${values.tone}").`);
    }
    const tile = wholeNumber(values.tile, '--tile');
    if (tile !== undefined && tile < 16) throw new StudioError('BAD_INPUT', `--tile must be at least 16 pixels (got ${tile}).`);

    if (!(await stat(positionals[0]!).catch(() => null))) {
      throw new StudioError('NOT_FOUND', `There is no file or folder at ${resolve(positionals[0]!)}.`);
    }
    applyBackendFlag(values.backend);
    const backend = await initBackend();
    const model = await loadRestoreModel(values.model);
    let lastLine = 0;
    let lastFile = '';
    const report = (p: RestoreProgress): void => {
      const now = Date.now();
      const fresh = p.file !== lastFile;
      if (!fresh && (now - lastLine < 1000 || p.fileFraction >= 1)) return;
      lastLine = now;
      lastFile = p.file;
      const pct = `${Math.floor(p.fileFraction * 100)}%`.padStart(4);
      const speed = p.megapixelsPerSecond > 0 ? `${p.megapixelsPerSecond.toFixed(2)} MP/s` : '- MP/s';
      const eta = p.etaSeconds === null ? '' : ` · ETA ${formatDuration(p.etaSeconds)}`;
      io.err(`[${p.index}/${p.total}] ${p.file} ${pct} · ${speed}${eta}${p.phase === 'paused' ? ' · paused' : ''}`);
    };
    try {
      const summary = await restoreBatch(
        {
          input: positionals[0]!,
          out: values.out,
          model,
          recursive: values.recursive,
          format,
          quality,
          tile,
          retryFailed: values['retry-failed'],
          ...(tone ? { tone } : {}),
        },
        {
          signal,
          onStart: (s) => {
            io.err(
              `Restoring ${s.toDo} of ${s.found} image${s.found === 1 ? '' : 's'} (${s.megapixelsTotal.toFixed(1)} MP) with "${model.name}" ` +
                `on ${backend.backend}, tiles of ${s.tile} px → ${s.out}` +
                (s.scale > 1 ? `, ${s.scale}× upscale` : '') +
                (s.estimatedSeconds !== null ? `, about ${formatDuration(s.estimatedSeconds)}` : '') +
                (s.skipped ? ` (${s.skipped} already done, skipped)` : ''),
            );
          },
          onProgress: report,
          onFile: (f) => {
            if (f.status === 'done') {
              const extra = [f.retries ? `retried with ${f.tile}-px tiles after running out of memory` : '', ...f.notes].filter(Boolean);
              io.err(`done ${f.file} → ${f.output} (${f.megapixels.toFixed(2)} MP in ${f.seconds.toFixed(1)}s${extra.length ? `; ${extra.join(', ')}` : ''})`);
            } else if (f.status === 'failed') {
              io.err(`FAILED ${f.file}: ${f.reason}`);
            }
          },
        },
      );
      if (values.json) {
        io.out(
          JSON.stringify({
            done: summary.done,
            skipped: summary.skipped,
            failed: summary.failed,
            out: summary.out,
            megapixelsPerSecond: Number(summary.megapixelsPerSecond.toFixed(4)),
            ...(summary.cancelled ? { cancelled: true } : {}),
          }),
        );
      } else {
        io.out(
          `${summary.cancelled ? 'Cancelled' : 'Finished'}: ${summary.done} restored, ${summary.skipped} skipped, ${summary.failed.length} failed` +
            ` (${summary.megapixelsPerSecond.toFixed(2)} MP/s) → ${summary.out}`,
        );
        const LIST = 50;
        for (const status of ['done', 'skipped'] as const) {
          const files = summary.files.filter((f) => f.status === status);
          if (files.length === 0) continue;
          io.out(`${status === 'done' ? 'Restored' : 'Skipped'}:${files.length > LIST ? ` (first ${LIST} of ${files.length})` : ''}`);
          for (const f of files.slice(0, LIST)) {
            if (f.status === 'done') io.out(`  ${f.file} → ${f.output}`);
            else if (f.status === 'skipped') io.out(`  ${f.file} (${f.reason})`);
          }
        }
        if (summary.failed.length > 0) {
          io.out('Failed:');
          for (const f of summary.failed) io.out(`  ${f.file}: ${f.reason}`);
          io.out('Run again with --retry-failed to retry only these.');
        }
        if (summary.cancelled) io.out('Run the same command again to resume.');
      }
      if (summary.cancelled) return 130;
      return summary.failed.length > 0 ? 1 : 0;
    } finally {
      model.dispose();
    }
  },
};
