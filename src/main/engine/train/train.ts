// The training loop: a custom loop over PatchSampler batches (not model.fit), so cancellation and per-batch
// events are precise.
//
//  - Adam (./adam: tf.train.adam's arithmetic with flat moments) with a learning-rate schedule (constant / step / cosine) and linear warm-up; the
//    rate is set on the optimizer before every step.
//  - Restorers train on MSE / L1 / Charbonnier / SSIM-mix; the classifier on binary cross-entropy, with each
//    batch's clean patches labelled 0 and degraded patches labelled 1 (so it sees 2 x batch patches).
//  - After every epoch: validation on the caller's fixed crops (loss, PSNR and SSIM on 8-bit quantised output;
//    classifier: loss and accuracy), PNG samples of the first crops, a checkpoint (weights + Adam state + epoch
//    + history, written atomically), then the epoch event.
//  - Early stopping on validation PSNR (classifier: validation loss) with patience; the best epoch's weights
//    are kept and put back at the end (recipe.restoreBest).
//  - An AbortSignal stops the run before the next batch (and aborts a pending nextBatch); the run then
//    resolves with status 'cancelled' and the epochs finished so far. The checkpoint of the last finished
//    epoch stays on disk, so `resume` continues from there.
//  - Every step runs in tf.tidy; nothing leaks between epochs (the tensor count is flat).
// The parts: run-start.ts (fresh start or resume), step.ts (the train step), validate.ts (the validation
// step), epoch-end.ts (the checkpoint step); this file is the loop that calls them and reports.
// The sampler belongs to the caller (train never closes it). The returned model belongs to the caller.
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { join } from 'node:path';
import { isAbortError, StudioError } from '#shared/rpc/errors';
import type { EpochRecord, FinalMetrics, TrainBatchEvent, TrainEpochEvent, TrainRecipe, TrainRecipeInput } from '#shared/model-card';
import type { PatchBatch, PatchSampler } from '../data/types';
import { getArchitecture } from '../models/index';
import { checkBatch, checkTrainingBatch, mean } from './batches';
import { endEpoch } from './epoch-end';
import { restoreLoss } from './losses';
import { disposeRunParts, parseRecipe, startRun, type RunParts } from './run-start';
import { learningRateAt } from './schedule';
import { setLearningRate, trainableVariables, trainStep, type Trainee } from './step';
import { validate, type ValidationResult, type ValidationSource } from './validate';

export { PSNR_CAP, type ValidationSource } from './validate';

export interface TrainOptions {
  recipe: TrainRecipeInput;
  sampler: PatchSampler;
  /**
   * Fixed validation crops, evaluated after every epoch (the same crops each time): batches in memory, or a
   * source asked for batches of recipe.batchSize each epoch. Restorers accept any crop size (whole images
   * too, one per batch); the classifier needs patch-sized crops.
   */
  validation?: PatchBatch[] | ValidationSource;
  /** Run folder: checkpoints in <workDir>/checkpoints, samples in <workDir>/samples/epoch-NNNN. */
  workDir: string;
  /** Continue from the newest checkpoint in workDir (a fresh start when there is none). */
  resume?: boolean;
  /** Start from this model (fine-tuning) instead of a fresh build; it is trained in place. Ignored on resume. */
  initialModel?: tfl.LayersModel;
  signal?: AbortSignal;
  onBatch?: (event: TrainBatchEvent) => void;
  onEpoch?: (event: TrainEpochEvent) => void | Promise<void>;
  /** Checkpoints kept on disk (newest first). Default 1. */
  keepCheckpoints?: number;
}

export type TrainStatus = 'completed' | 'early-stopped' | 'cancelled';

export interface TrainResult {
  status: TrainStatus;
  /** The trained model (best validation weights when recipe.restoreBest). The caller disposes it. */
  model: tfl.LayersModel;
  /** The recipe with defaults filled in and the hyper-parameters resolved. */
  recipe: TrainRecipe;
  history: EpochRecord[];
  /** Epochs finished (across resumes). */
  epochs: number;
  bestEpoch: number | null;
  finalMetrics: FinalMetrics;
  /** Training seconds (across resumes). */
  seconds: number;
  backend: string;
  /** Folder of the newest checkpoint, if any. */
  checkpoint: string | null;
  /** Epoch the run started from (0 for a fresh start). */
  resumedFrom: number;
}

/** The next training batch, or null when the run was cancelled before or while it came. */
async function nextBatch(sampler: PatchSampler, signal: AbortSignal | undefined): Promise<PatchBatch | null> {
  if (signal?.aborted) return null;
  let batch: PatchBatch;
  try {
    batch = await sampler.nextBatch(signal);
  } catch (error) {
    if (signal?.aborted || isAbortError(error)) return null;
    throw error;
  }
  return signal?.aborted ? null : batch;
}

/** The validation step, or null when the run was cancelled during it. */
async function validateOrCancel(run: RunParts, options: TrainOptions, recipe: TrainRecipe, trainee: Trainee): Promise<ValidationResult | null> {
  try {
    return await validate(run.model, options.validation ?? [], recipe, trainee.task, trainee.lossFn, options.signal);
  } catch (error) {
    if (options.signal?.aborted || isAbortError(error)) return null;
    throw error;
  }
}

function resultOf(run: RunParts, recipe: TrainRecipe, trainee: Trainee, status: TrainStatus, seconds: number, backend: string, resumedFrom: number): TrainResult {
  const { state } = run;
  const bestRecord = state.history.find((h) => h.epoch === state.bestEpoch) ?? state.history[state.history.length - 1];
  return {
    status,
    model: run.model,
    recipe,
    history: state.history,
    epochs: state.epoch,
    bestEpoch: state.bestEpoch,
    finalMetrics: {
      psnr: bestRecord?.valPsnr ?? null,
      ssim: bestRecord?.valSsim ?? null,
      loss: bestRecord?.valLoss ?? bestRecord?.loss ?? null,
      ...(trainee.task === 'classify' ? { accuracy: bestRecord?.valAccuracy ?? null } : {}),
    },
    seconds,
    backend,
    checkpoint: run.checkpoint,
    resumedFrom,
  };
}

/** Runs (or resumes) a training run. See the file header for the behaviour. */
export async function train(options: TrainOptions): Promise<TrainResult> {
  const recipe = parseRecipe(options.recipe);
  const task = getArchitecture(recipe.architecture).task;
  const validation = options.validation ?? [];
  if (Array.isArray(validation)) {
    validation.forEach((b, i) => checkBatch(b, recipe, `Validation batch ${i + 1}`, task === 'classify'));
  }
  const backend = tf.getBackend();
  const run = await startRun(recipe, { checkpointsDir: join(options.workDir, 'checkpoints'), resume: options.resume, initialModel: options.initialModel });
  try {
    const { state } = run;
    const resumedFrom = state.epoch;
    const trainee: Trainee = {
      task,
      model: run.model,
      optimizer: run.optimizer,
      variables: trainableVariables(run.model),
      lossFn: restoreLoss(recipe.loss, recipe),
      gan: run.discriminator && run.discOptimizer ? { discriminator: run.discriminator, optimizer: run.discOptimizer, adversarialWeight: recipe.gan.adversarialWeight } : null,
    };
    const totalSteps = recipe.epochs * recipe.stepsPerEpoch;
    const scheduleCtx = { baseLearningRate: recipe.optimizer.learningRate, stepsPerEpoch: recipe.stepsPerEpoch, totalSteps };
    let status: TrainStatus = 'completed';
    let stepSeconds: number | null = null;
    let validationSeconds = 0;
    const runStart = performance.now();
    const elapsedBefore = state.elapsed;
    const elapsed = (): number => elapsedBefore + (performance.now() - runStart) / 1000;
    let lr = learningRateAt(state.globalStep, recipe.schedule, scheduleCtx);

    epochs: for (let epoch = state.epoch + 1; epoch <= recipe.epochs; epoch++) {
      const losses: number[] = [];
      let epochPatches = 0;
      const epochStart = performance.now();
      for (let step = 1; step <= recipe.stepsPerEpoch; step++) {
        const stepStart = performance.now();
        const batch = await nextBatch(options.sampler, options.signal);
        if (!batch) {
          status = 'cancelled';
          break epochs;
        }
        checkTrainingBatch(batch, recipe, `Training batch ${state.globalStep + 1}`);
        lr = learningRateAt(state.globalStep, recipe.schedule, scheduleCtx);
        setLearningRate(run.optimizer, lr);
        const { loss, accuracy } = await trainStep(trainee, batch);
        if (!Number.isFinite(loss)) {
          throw new StudioError('INTERNAL', `Training diverged at epoch ${epoch}, step ${step}: the loss is ${loss}. Lower the learning rate.`);
        }
        state.globalStep += 1;
        losses.push(loss);
        epochPatches += batch.batch;
        const seconds = (performance.now() - stepStart) / 1000;
        stepSeconds = stepSeconds === null ? seconds : 0.8 * stepSeconds + 0.2 * seconds;
        const remainingEpochs = recipe.epochs - epoch + 1;
        const epochSeconds = (performance.now() - epochStart) / 1000;
        options.onBatch?.({
          epoch,
          step,
          stepsPerEpoch: recipe.stepsPerEpoch,
          globalStep: state.globalStep,
          loss,
          accuracy,
          lr,
          patchesPerSecond: epochSeconds > 0 ? epochPatches / epochSeconds : 0,
          etaSeconds: Math.max(0, (totalSteps - state.globalStep) * stepSeconds + remainingEpochs * validationSeconds),
        });
      }
      const trainSeconds = (performance.now() - epochStart) / 1000;

      const valStart = performance.now();
      const val = await validateOrCancel(run, options, recipe, trainee);
      if (!val) {
        status = 'cancelled';
        break;
      }
      const record: EpochRecord = {
        epoch,
        loss: mean(losses),
        valLoss: val.valLoss,
        valPsnr: val.valPsnr,
        valSsim: val.valSsim,
        ...(task === 'classify' ? { valAccuracy: val.valAccuracy } : {}),
        lr,
        patchesPerSecond: trainSeconds > 0 ? epochPatches / trainSeconds : 0,
        elapsed: 0,
      };
      const io = { workDir: options.workDir, keepCheckpoints: options.keepCheckpoints ?? 1, backend };
      // Validation time (for the ETA) runs until the samples are written, when the record is stamped.
      const end = await endEpoch(run, io, recipe, task, record, val, () => {
        validationSeconds = (performance.now() - valStart) / 1000;
        return elapsed();
      });
      await options.onEpoch?.({ ...record, epochs: recipe.epochs, samples: end.samples, checkpoint: end.checkpoint, best: end.improved });
      if (recipe.earlyStopping && state.badEpochs >= recipe.earlyStopping.patience) {
        status = 'early-stopped';
        break;
      }
    }

    // Put the best epoch's weights back unless the model still holds them (a cancel mid-epoch moved it on).
    if (recipe.restoreBest && run.best && (state.bestEpoch !== state.epoch || status === 'cancelled')) {
      run.model.setWeights(run.best);
    }
    return resultOf(run, recipe, trainee, status, status === 'cancelled' ? elapsed() : state.elapsed, backend, resumedFrom);
  } catch (error) {
    if (run.ownsModel) run.model.dispose();
    throw error;
  } finally {
    disposeRunParts(run);
  }
}
