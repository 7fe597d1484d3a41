// The checkpoint step, after an epoch's validation: the best epoch and early-stopping count updated (PSNR
// up for restorers, validation loss down for the classifier and the damage detector), the best weights cloned when they improved,
// samples written, then the run's state, weights and optimizer checkpointed atomically and old checkpoints
// pruned. The only tensors it keeps are the new best weights, and it frees the ones they replace.
import * as tf from '@tensorflow/tfjs-core';
import { join } from 'node:path';
import type { EpochRecord, ModelTask, TrainRecipe } from '#shared/model-card';
import { checkpointName, pruneCheckpoints, writeCheckpoint } from './checkpoint';
import type { RunParts } from './run-start';
import { writeSamples, type SamplePaths } from './samples';
import type { ValidationResult } from './validate';

export interface EpochEnd {
  /** This epoch is the best so far. */
  improved: boolean;
  samples: SamplePaths[];
  /** Folder of the checkpoint just written. */
  checkpoint: string;
}

/**
 * Whether an epoch is judged by its validation loss (lower is better) rather than PSNR. A classifier has no
 * image to score, and a damage detector's PSNR measures its probability map against a mask made mostly of
 * zeros: it rewards timid maps that find little, so the best-PSNR epoch of a detector is rarely its best one.
 */
export function monitorsLoss(task: ModelTask): boolean {
  return task === 'classify' || task === 'detect';
}

/** Whether `score` beats the best so far; updates bestScore, bestEpoch and badEpochs in `state`. */
function scoreEpoch(run: RunParts, recipe: TrainRecipe, task: ModelTask, epoch: number, score: number | null): boolean {
  const { state } = run;
  if (score === null || !Number.isFinite(score)) return false;
  const delta = recipe.earlyStopping?.minDelta ?? 0;
  const prev = state.bestScore;
  const improved = prev === null || (monitorsLoss(task) ? score < prev - delta : score > prev + delta);
  if (improved) {
    state.bestScore = score;
    state.bestEpoch = epoch;
    state.badEpochs = 0;
    if (recipe.restoreBest) {
      tf.dispose(run.best ?? []);
      run.best = run.model.getWeights().map((w) => w.clone());
      state.hasBest = true;
    }
  } else {
    state.badEpochs += 1;
  }
  return improved;
}

/**
 * Ends `record.epoch`: scores it, writes its samples and checkpoint. `elapsed` gives the run's training
 * seconds at the moment the record is stamped (after the samples are written).
 */
export async function endEpoch(
  run: RunParts,
  io: { workDir: string; keepCheckpoints: number; backend: string },
  recipe: TrainRecipe,
  task: ModelTask,
  record: EpochRecord,
  val: ValidationResult,
  elapsed: () => number,
): Promise<EpochEnd> {
  const { state } = run;
  const improved = scoreEpoch(run, recipe, task, record.epoch, monitorsLoss(task) ? val.valLoss : val.valPsnr);
  const samples = val.samples.length ? await writeSamples(join(io.workDir, 'samples', checkpointName(record.epoch)), val.samples) : [];
  record.elapsed = elapsed();
  state.history.push(record);
  state.epoch = record.epoch;
  state.elapsed = record.elapsed;
  state.hasDiscriminator = run.discriminator !== null;
  state.backend = io.backend;
  state.savedAt = new Date().toISOString();
  const checkpointsDir = join(io.workDir, 'checkpoints');
  run.checkpoint = await writeCheckpoint(checkpointsDir, {
    model: run.model,
    optimizer: run.optimizer,
    state,
    best: recipe.restoreBest ? run.best : null,
    discriminator: run.discriminator && run.discOptimizer ? { model: run.discriminator, optimizer: run.discOptimizer } : null,
  });
  await pruneCheckpoints(checkpointsDir, io.keepCheckpoints);
  return { improved, samples, checkpoint: run.checkpoint };
}
