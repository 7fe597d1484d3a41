// Restoring a batch of photos as an engine stream: the core (infer/batch.ts) reports start, progress and
// every file; this turns those into protocol events and keeps the run's pause gate by run id.
import { randomUUID } from 'node:crypto';
import { dirname, resolve } from 'node:path';
import { stat } from 'node:fs/promises';
import type { RestoreEvent, RestoreParams, TriageResult } from '#shared/restore';
import { StudioError } from '#shared/rpc/errors';
import { loadClassifier, loadRestoreModel, PauseGate, restoreBatch, triageFolder } from '../infer';

const runs = new Map<string, PauseGate>();

export function pauseGate(runId: string): PauseGate {
  const gate = runs.get(runId);
  if (!gate) throw new StudioError('JOB_NOT_FOUND', `No restore run ${runId} is going on.`);
  return gate;
}

export async function restoreJob(params: RestoreParams, ctx: { signal: AbortSignal; emit(event: RestoreEvent): void }): Promise<void> {
  const model = await loadRestoreModel(params.model, params.modelsDir ? { modelsDir: params.modelsDir } : {});
  const runId = randomUUID();
  const pause = new PauseGate();
  runs.set(runId, pause);
  const input = resolve(params.input);
  const inputRoot = (await stat(input)).isDirectory() ? input : dirname(input);
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
      },
      {
        signal: ctx.signal,
        pause,
        onStart: (info) => {
          out = info.out;
          ctx.emit({ type: 'start', runId, inputRoot, ...info });
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
  }
}

export async function triageJob(
  params: { dir: string; recursive: boolean; classifier?: string; modelsDir?: string },
  signal: AbortSignal,
): Promise<TriageResult> {
  const classifier = await loadClassifier(params.classifier, params.modelsDir ? { modelsDir: params.modelsDir } : {});
  try {
    const result = await triageFolder({ dir: params.dir, classifier, recursive: params.recursive }, { signal });
    return { scores: result.scores, failed: result.failed, calibrated: result.calibrated };
  } finally {
    classifier.dispose();
  }
}
