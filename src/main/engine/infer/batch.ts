// Batch restoration: every photo of a folder (or one file) through a restoration model into a new folder.
// - Inputs are only ever read. Outputs go to a separate folder (default: `<input>-restored` next to the
//   input), mirroring subfolders with `recursive`; the output folder is never scanned as input; each output
//   is written under a temporary name in its folder and renamed, so no half-written file has a final name.
// - Any size: images are restored tile by tile (restore-image.ts); an out-of-memory error restarts that image
//   with smaller tiles.
// - Resumable: a journal in the output folder records every finished or failed file; a rerun skips files
//   whose input is unchanged (size + mtime) and whose output is still there, made with the same settings.
//   `retryFailed` reruns only the files that failed.
// - One bad file (corrupt, not an image) is recorded with its reason and the batch goes on.
// - Pause (PauseGate), cancel (AbortSignal) and progress (n of N, file, megapixels/s, ETA); before the first
//   file, an estimate from the model timed on one small tile (estimate.ts), which counts an upscaler's cost.
import { resolve } from 'node:path';
import { holdOutput, LOCK_NAME } from './batch-lock';
import { restoreBatchFile, type BatchContext } from './batch-file';
import { measureWork, planOutputs, resolveTarget, sortWork } from './batch-plan';
import { BatchTally } from './batch-progress';
import { JOURNAL_NAME } from './journal';
import { estimateBatchSeconds, timeModel } from './estimate';
import { fitBand, peakRestoreBytes, planTiles } from './memory';
import type { RestoreModel } from './model';
import { PauseGate } from './pause';
import type { RepairStage } from './repair';
import type { FormatChoice } from './photo';

export { defaultOutputDir, listImages, planOutputs, type PlannedFile } from './batch-plan';
export { failureReason } from './batch-file';
export { LOCK_NAME };

export interface RestoreBatchOptions {
  /** An image file or a folder of images. */
  input: string;
  /** Output folder; default `<input folder>-restored` beside the input folder (for a file: beside its folder). */
  out?: string;
  model: RestoreModel;
  /** Include subfolders (mirrored in the output). */
  recursive?: boolean;
  /** Output format; default 'keep'. */
  format?: FormatChoice;
  /** JPEG/WebP/AVIF quality 1-100; default 92. */
  quality?: number;
  /** Tile edge in pixels; default chosen from available memory. */
  tile?: number;
  /** Process only the files whose last journal record is a failure. */
  retryFailed?: boolean;
  /** Automatic tone and colour after the model, at this strength (0-1); off when absent. */
  tone?: number;
  /** Damage repair before the model (the detector's mask, filled), at this strength (0-1); off when absent. */
  repair?: RepairStage;
}

export interface RestoreBatchControl {
  signal?: AbortSignal;
  pause?: PauseGate;
  onStart?: (info: BatchStart) => void;
  onProgress?: (progress: RestoreProgress) => void;
  /** After every file: restored, skipped (reported before the first restore) or failed. */
  onFile?: (outcome: FileOutcome) => void;
}

export interface BatchStart {
  out: string;
  /** Images found. */
  found: number;
  /** Images to process in this run. */
  toDo: number;
  skipped: number;
  megapixelsTotal: number;
  tile: number;
  model: string;
  /** Output pixels per input pixel along each axis (1, or an upscaler's 2, 4 ...). */
  scale: number;
  /** Seconds the batch should take, from the model timed on this machine; null when it could not be timed. */
  estimatedSeconds: number | null;
  /** The most the process should hold while it restores one photo: its memory now plus peakRestoreBytes, in MB. */
  memoryMegabytes: number;
}

export interface RestoreProgress {
  phase: 'restoring' | 'paused';
  /** 1-based position of the current file among the files to process. */
  index: number;
  total: number;
  /** Current file, relative to the input folder. */
  file: string;
  /** Fraction of the current file done. */
  fileFraction: number;
  done: number;
  skipped: number;
  failed: number;
  megapixelsDone: number;
  megapixelsTotal: number;
  megapixelsPerSecond: number;
  etaSeconds: number | null;
  tile: number;
}

export type FileOutcome =
  | {
      status: 'done';
      file: string;
      output: string;
      megapixels: number;
      seconds: number;
      tile: number;
      /** Out-of-memory restarts with smaller tiles. */
      retries: number;
      /** What was kept or changed, for the log (16-bit, alpha, ICC, orientation, pages ...). */
      notes: string[];
      /** With repair on: the damage mask it filled, a PNG relative to the output folder (see MASKS_DIR). */
      mask?: string;
    }
  | { status: 'skipped'; file: string; output: string | null; reason: string }
  | { status: 'failed'; file: string; reason: string };

export interface FailedFile {
  file: string;
  reason: string;
}

export interface RestoreSummary {
  done: number;
  skipped: number;
  failed: FailedFile[];
  out: string;
  megapixelsPerSecond: number;
  /** True when the batch stopped early (signal); rerunning resumes it. */
  cancelled: boolean;
  seconds: number;
  model: string;
  files: FileOutcome[];
}

/**
 * Seconds per pixel of the model, plus the detector's and the filler's when repair is on; null when any of
 * them cannot run a tile. The filler only runs on tiles that hold damage, which is not known before the
 * detector has run: it is counted on every tile (an old photo's damage is usually everywhere).
 */
async function timeStages(model: RestoreModel, repair?: RepairStage): Promise<number | null> {
  const stages: [RestoreModel, number][] = [[model, 3]];
  if (repair) stages.push([repair.detector, 3]);
  if (repair?.filler) stages.push([repair.filler, repair.filler.seesOriginal ? 7 : 4]);
  let total = 0;
  for (const [stage, channels] of stages) {
    const seconds = await timeModel(stage, channels).catch(() => null);
    if (seconds === null) return null;
    total += seconds;
  }
  return total;
}

/** Restores a file or folder of photos. Resolves with the summary (also when cancelled: `cancelled` is set). */
export async function restoreBatch(options: RestoreBatchOptions, control: RestoreBatchControl = {}): Promise<RestoreSummary> {
  const started = Date.now();
  const { model } = options;
  // Plan: what to read and where it goes (nothing is written before this succeeds).
  const target = await resolveTarget(options);
  const { out } = target;
  // Lock: the output folder is this batch's until it ends.
  const held = await holdOutput(out, target.realRoot);
  try {
    // Outputs made with other settings are redone; the tone stage is part of the settings only when on, so
    // journals written before it existed stay valid.
    const settings =
      `${model.fingerprint}|${target.formatChoice}|${target.quality}${options.tone ? `|tone ${options.tone}` : ''}` +
      (options.repair ? `|repair ${options.repair.strength} ${options.repair.detector.fingerprint}` : '') +
      (options.repair?.filler ? ` fill ${options.repair.filler.fingerprint}` : '');
    const planned = planOutputs(target.root, out, target.inputs, target.formatChoice);
    const { toDo, skippedFiles } = await sortWork(planned, held.journal, out, settings, options.retryFailed ?? false);
    const sizes = await measureWork(toDo);
    const defaultPlan = planTiles(model, options.tile);
    // A model that cannot even run one small tile (out of memory) gets no estimate; its files say why.
    const secondsPerPixel = toDo.length > 0 ? await timeStages(model, options.repair) : null;
    const estimatedSeconds = secondsPerPixel === null ? null : estimateBatchSeconds(sizes, defaultPlan, model, secondsPerPixel);
    const megapixelsTotal = toDo.reduce((a, t) => a + t.megapixels, 0);
    control.onStart?.({
      out,
      found: target.inputs.length,
      toDo: toDo.length,
      skipped: skippedFiles.length,
      megapixelsTotal,
      tile: defaultPlan.tile,
      model: model.id,
      scale: model.scale ?? 1,
      estimatedSeconds,
      // What the process will hold at its peak: what it holds now (the runtime, the model, libvips) plus the
      // most one photo adds. The photo's share alone read 0.4 GB for a 16000x16000 photo that peaked at 1.6 GB.
      memoryMegabytes: Math.ceil(
        (process.memoryUsage().rss + Math.max(0, ...sizes.map((f) => peakRestoreBytes(f.width, f.height, fitBand(defaultPlan, model, f.width), model)))) / 1024 ** 2,
      ),
    });
    for (const f of skippedFiles) control.onFile?.(f);
    const tally = new BatchTally(started, toDo.length, skippedFiles.length, megapixelsTotal, estimatedSeconds, control.pause, control.onProgress);
    tally.files.push(...skippedFiles);

    // Loop: one file at a time, until the work is done or the batch is cancelled.
    const ctx: BatchContext = {
      model,
      control,
      journal: held.journal,
      out,
      realRoot: target.realRoot,
      outInsideInput: target.outInsideInput,
      inputSet: new Set(target.inputs.map((p) => resolve(p))),
      settings,
      quality: target.quality,
      tile: options.tile,
      tone: options.tone,
      repair: options.repair,
      defaultTile: defaultPlan.tile,
      tally,
    };
    let cancelled = false;
    try {
      for (let i = 0; i < toDo.length && !cancelled; i++) {
        cancelled = Boolean(control.signal?.aborted) || (await restoreBatchFile(ctx, i + 1, toDo[i]!)) === 'cancelled';
      }
    } finally {
      tally.close();
    }
    return {
      done: tally.done,
      skipped: skippedFiles.length,
      failed: tally.failed,
      out,
      megapixelsPerSecond: tally.restoreSeconds > 0 ? tally.megapixelsRestored / tally.restoreSeconds : 0,
      cancelled,
      seconds: (Date.now() - started) / 1000,
      model: model.id,
      files: tally.files,
    };
  } finally {
    await held.release();
  }
}

export { JOURNAL_NAME, PauseGate };
