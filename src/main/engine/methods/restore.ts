// Restoring a batch of photos as an engine stream: the core (infer/batch.ts) reports start, progress and
// every file; this turns those into protocol events and keeps the run's pause gate and stop switch by run id.
import { randomUUID } from 'node:crypto';
import { dirname, resolve } from 'node:path';
import { stat } from 'node:fs/promises';
import type { RestoreEvent, RestoreParams, TriageEvent } from '#shared/restore';
import { StudioError } from '#shared/rpc/errors';
import { loadClassifier, loadDamageDetector, loadRepairFiller, loadRestoreModel, PauseGate, restoreBatch, triageFolder } from '../infer';
import { anySignal } from './common';
import { selfEnsemble } from '../infer/ensemble';

/** A restore run in progress: pausing between tiles, and stopping with a summary (restore.stop). */
interface RestoreRun {
  pause: PauseGate;
  stop: AbortController;
}

const runs = new Map<string, RestoreRun>();

export function restoreRun(runId: string): RestoreRun {
  const run = runs.get(runId);
  if (!run) throw new StudioError('JOB_NOT_FOUND', `No restore run ${runId} is going on.`);
  return run;
}

export async function restoreJob(params: RestoreParams, ctx: { signal: AbortSignal; emit(event: RestoreEvent): void }): Promise<void> {
  const input = resolve(params.input);
  const info = await stat(input).catch(() => null);
  if (!info) throw new StudioError('NOT_FOUND', `There is no file or folder at ${input}.`);
  const inputRoot = info.isDirectory() ? input : dirname(input);
  const lookup = params.modelsDir ? { modelsDir: params.modelsDir } : {};
  const loaded = await loadRestoreModel(params.model, lookup);
  const model = params.ensemble ? selfEnsemble(loaded) : loaded;
  let detector = null;
  let filler = null;
  try {
    if (params.repair) {
      detector = await loadDamageDetector(params.repairModel, lookup);
      filler = await loadRepairFiller(params.fillModel, lookup);
    }
  } catch (error) {
    model.dispose();
    detector?.dispose();
    throw error;
  }
  const runId = randomUUID();
  const pause = new PauseGate();
  // Stopping ends the batch between tiles like cancelling does, but the stream stays open for the summary.
  const stop = new AbortController();
  runs.set(runId, { pause, stop });
  let out = '';
  try {
    const summary = await restoreBatch(
      {
        input,
        model,
        recursive: params.recursive,
        format: params.format,
        quality: params.quality,
        retryFailed: params.retryFailed,
        ...(params.out ? { out: params.out } : {}),
        ...(params.tile ? { tile: params.tile } : {}),
        ...(params.tone ? { tone: params.tone } : {}),
        ...(detector && params.repair ? { repair: { detector, filler, strength: params.repair } } : {}),
      },
      {
        signal: anySignal([ctx.signal, stop.signal]),
        pause,
        onStart: (info) => {
          out = info.out;
          ctx.emit({ type: 'start', runId, inputRoot, ...info, modelName: model.name });
        },
        onProgress: (progress) => ctx.emit({ type: 'progress', ...progress }),
        onFile: (outcome) =>
          ctx.emit({
            type: 'file',
            status: outcome.status,
            file: outcome.file,
            // The core reports outputs relative to the output folder; the UI needs where they are.
            output: outcome.status === 'failed' || !outcome.output ? null : resolve(out, outcome.output),
            reason: outcome.status === 'done' ? null : outcome.reason,
            ...(outcome.status === 'done'
              ? {
                  megapixels: outcome.megapixels,
                  seconds: outcome.seconds,
                  tile: outcome.tile,
                  retries: outcome.retries,
                  notes: outcome.notes,
                  ...(outcome.mask ? { mask: resolve(out, outcome.mask) } : {}),
                }
              : {}),
          }),
      },
    );
    ctx.emit({
      type: 'done',
      done: summary.done,
      skipped: summary.skipped,
      failed: summary.failed,
      out: summary.out,
      megapixelsPerSecond: summary.megapixelsPerSecond,
      cancelled: summary.cancelled,
      seconds: summary.seconds,
    });
  } finally {
    runs.delete(runId);
    model.dispose();
    detector?.dispose();
    filler?.dispose();
  }
}

/** Scores a folder as a stream: a progress event per photo, then done with the scores. */
export async function triageJob(
  params: { dir: string; recursive: boolean; classifier?: string; modelsDir?: string },
  ctx: { signal: AbortSignal; emit(event: TriageEvent): void },
): Promise<void> {
  const classifier = await loadClassifier(params.classifier, params.modelsDir ? { modelsDir: params.modelsDir } : {});
  try {
    const result = await triageFolder(
      { dir: params.dir, classifier, recursive: params.recursive },
      { signal: ctx.signal, onProgress: (p) => ctx.emit({ type: 'progress', ...p }) },
    );
    ctx.emit({ type: 'done', classifier: classifier.name, result: { scores: result.scores, failed: result.failed, calibrated: result.calibrated } });
  } finally {
    classifier.dispose();
  }
}
