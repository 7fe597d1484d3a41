import { relative } from 'node:path';
import { parseArgs } from 'node:util';
import type { CliCommand } from '../command';
import { StudioError } from '#shared/rpc/errors';
import { NO_MODEL, OutputFormatSchema, RESTORE_TILE, RestoreParamsSchema, type RestoreEvent } from '#shared/restore';
import { modelRef, withEngine } from '../engine';
import { numberFlag, parseFlags } from '../flags';
import { resolveStages } from '../stages';
import { formatDuration, plural } from '../format';

type FileEvent = Extract<RestoreEvent, { type: 'file' }>;

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
  --models-dir <dir> the models folder to look ids up in (default: the one chosen in Settings)
  --recursive        include subfolders (mirrored in the output folder)
  --format <f>       ${OutputFormatSchema.options.join(', ')} (default keep)
  --quality <n>      JPEG/WebP quality 1-100 (default 92)
  --tile <n>         tile size in pixels, ${RESTORE_TILE.min} to ${RESTORE_TILE.max} (default: chosen from available memory)
  --retry-failed     process only the files that failed in earlier runs
  --best-quality     run the model in 8 orientations and average them (about +0.1 to +0.3 dB; 8x the time,
                     which the time estimate includes)
  --repair <0..1>    before the model, find scratches, dust and cracks with the damage detector and fill
                     them from the pixels around them (off by default; 0.5 fills what the detector is sure
                     of, 1 also the faint ones); every other pixel is left to the model. The mask it filled
                     is kept in <out>/.studio-masks/ (Compare can lay it over the photo)
  --repair-model <id|dir>  the damage detector (default: the bundled "damage" model)
  --fill-model <id|dir|none>  the damage filler that carries texture and edges into the holes the repair
                     interpolated (default: the bundled "fill" model when installed; none: the
                     interpolation alone)
  --tone <0..1>      after the model, bring back faded tones and remove a yellowed cast at this strength
                     (off by default; monochrome and sepia photos stay so; a photo that is not faded is
                     left as it is)
  --stages <list>    the stages to run, comma-separated: repair, model, tone (they run in that order; without
                     --stages: the model, with repair and tone when --repair or --tone is given). Leave out
                     "model" to only repair or only correct the tone: no network touches the photo
  --strength <0..1>  the strength of the repair and tone stages named in --stages without --repair or
                     --tone of their own (default 0.5)
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
        'models-dir': { type: 'string' },
        recursive: { type: 'boolean', default: false },
        format: { type: 'string', default: 'keep' },
        quality: { type: 'string' },
        tile: { type: 'string' },
        'retry-failed': { type: 'boolean', default: false },
        tone: { type: 'string' },
        repair: { type: 'string' },
        'best-quality': { type: 'boolean', default: false },
        'repair-model': { type: 'string' },
        'fill-model': { type: 'string' },
        stages: { type: 'string' },
        strength: { type: 'string' },
        backend: { type: 'string' },
        json: { type: 'boolean', default: false },
      },
    });
    if (positionals.length !== 1) throw new StudioError('BAD_INPUT', 'Give exactly one input: a photo or a folder of photos.');
    const stages = resolveStages({ ...values, bestQuality: values['best-quality'] });
    const parse = (modelsDir: string): ReturnType<typeof RestoreParamsSchema.parse> =>
      parseFlags(RestoreParamsSchema, {
        input: positionals[0],
        out: values.out,
        model: stages.model === undefined || stages.model === NO_MODEL ? stages.model : modelRef(stages.model),
        recursive: values.recursive,
        format: values.format,
        quality: numberFlag(values.quality),
        tile: numberFlag(values.tile),
        retryFailed: values['retry-failed'],
        // 0 is "off", as before; the schema takes 0..1.
        tone: numberFlag(stages.tone) || undefined,
        repair: numberFlag(stages.repair) || undefined,
        ensemble: values['best-quality'],
        repairModel: values['repair-model'] === undefined ? undefined : modelRef(values['repair-model']),
        fillModel: values['fill-model'] === undefined || values['fill-model'] === NO_MODEL ? values['fill-model'] : modelRef(values['fill-model']),
        modelsDir,
      });
    parse('.'); // bad flags are usage errors before the engine starts
    return withEngine({ backend: values.backend, modelsDir: values['models-dir'] }, async ({ engine, modelsDir }) => {
      const params = parse(modelsDir);
      const { backend } = await engine.call('engine.info', {}, { signal });
      const files: FileEvent[] = [];
      let out = '';
      let lastLine = 0;
      let lastFile = '';
      const report = (p: Extract<RestoreEvent, { type: 'progress' }>): void => {
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
      const onEvent = (e: RestoreEvent): void => {
        if (e.type === 'start') {
          out = e.out;
          io.err(
            `Restoring ${e.toDo} of ${plural(e.found, 'image')} (${e.megapixelsTotal.toFixed(1)} MP) with "${e.modelName ?? e.model}" ` +
              `on ${backend}, tiles of ${e.tile} px → ${e.out}` +
              ((e.scale ?? 1) > 1 ? `, ${e.scale}× upscale` : '') +
              (e.estimatedSeconds != null ? `, about ${formatDuration(e.estimatedSeconds)}` : '') +
              (e.memoryMegabytes ? `, memory up to ~${e.memoryMegabytes} MB` : '') +
              (e.skipped ? ` (${e.skipped} already done, skipped)` : ''),
          );
        } else if (e.type === 'progress') {
          report(e);
        } else if (e.type === 'file') {
          files.push(e);
          const output = e.output === null ? '' : relative(out, e.output);
          if (e.status === 'done') {
            const extra = [e.retries ? `retried with ${e.tile}-px tiles after running out of memory` : '', ...(e.notes ?? [])].filter(Boolean);
            io.err(`done ${e.file} → ${output} (${(e.megapixels ?? 0).toFixed(2)} MP in ${(e.seconds ?? 0).toFixed(1)}s${extra.length ? `; ${extra.join(', ')}` : ''})`);
          } else if (e.status === 'failed') {
            io.err(`FAILED ${e.file}: ${e.reason}`);
          }
        }
      };
      // Ctrl+C stops between tiles and the summary still comes (restore.stop); a rerun resumes.
      const summary = await engine.run('restore.run', params, {
        signal,
        onEvent,
        stop: (runId) => engine.call('restore.stop', { runId }),
        cancelled: 'The restore was cancelled before it started.',
      });
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
          const listed = files.filter((f) => f.status === status);
          if (listed.length === 0) continue;
          io.out(`${status === 'done' ? 'Restored' : 'Skipped'}:${listed.length > LIST ? ` (first ${LIST} of ${listed.length})` : ''}`);
          for (const f of listed.slice(0, LIST)) {
            if (f.status === 'done') io.out(`  ${f.file} → ${f.output === null ? '' : relative(summary.out, f.output)}`);
            else io.out(`  ${f.file} (${f.reason})`);
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
    });
  },
};
