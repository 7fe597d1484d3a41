// The training loop: a custom loop over PatchSampler batches (not model.fit), so cancellation and per-batch
// events are precise.
//
//  - Adam (tf.train.adam) with a learning-rate schedule (constant / step / cosine) and linear warm-up; the
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
// The sampler belongs to the caller (train never closes it). The returned model belongs to the caller.
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { join } from 'node:path';
import { isAbortError, StudioError, throwIfAborted } from '#shared/rpc/errors';
import {
  TrainRecipeSchema,
  type EpochRecord,
  type FinalMetrics,
  type ModelTask,
  type TrainBatchEvent,
  type TrainEpochEvent,
  type TrainRecipe,
  type TrainRecipeInput,
} from '#shared/model-card';
import type { PatchBatch, PatchSampler } from '../data/types';
import { getArchitecture } from '../models/index';
import { psnrTf, ssimTf } from '../metrics/tf-metrics';
import { binaryAccuracy, binaryCrossEntropy, restoreLoss, type LossFn } from './losses';
import { learningRateAt } from './schedule';
import {
  findLatestCheckpoint,
  pruneCheckpoints,
  readCheckpoint,
  writeCheckpoint,
  checkpointName,
  CHECKPOINT_FORMAT,
  type CheckpointState,
} from './checkpoint';
import { writeSamples, type SampleImage } from './samples';
import { buildDiscriminator, ganStep } from './gan';

/** PSNR of identical images is infinite; records cap it so JSON can hold it. */
export const PSNR_CAP = 100;

/** Fixed validation crops served in batches (the data pipeline's ValidationSet fits this). */
export interface ValidationSource {
  batches(batchSize?: number, signal?: AbortSignal): AsyncIterable<PatchBatch>;
}

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

interface ValidationResult {
  valLoss: number | null;
  valPsnr: number | null;
  valSsim: number | null;
  valAccuracy: number | null;
  samples: SampleImage[];
}

function parseRecipe(input: TrainRecipeInput): TrainRecipe {
  const parsed = TrainRecipeSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new StudioError(
      'BAD_INPUT',
      `Training recipe is invalid: ${issue ? `${issue.path.join('.') || '(root)'}: ${issue.message}` : 'unknown problem'}`,
      { issues: parsed.error.issues },
    );
  }
  const recipe = parsed.data;
  const arch = getArchitecture(recipe.architecture);
  recipe.hyper = arch.resolve(recipe.hyper);
  if (arch.task === 'classify' && recipe.hyper.inputSize !== recipe.patchSize) {
    throw new StudioError(
      'BAD_INPUT',
      `The classifier's inputSize (${String(recipe.hyper.inputSize)}) must equal the patch size (${recipe.patchSize}).`,
    );
  }
  if (recipe.gan.enabled && arch.task !== 'restore') {
    throw new StudioError('BAD_INPUT', 'GAN fine-tuning applies to restorers only.');
  }
  return recipe;
}

function checkBatch(batch: PatchBatch, recipe: TrainRecipe, what: string, fixedSize: boolean): void {
  const { batch: n, height: h, width: w, channels: c } = batch;
  if (c !== 3) throw new StudioError('BAD_INPUT', `${what} has ${String(c)} channels; training expects RGB (3).`);
  const size = n * h * w * c;
  if (batch.degraded.length !== size || batch.clean.length !== size) {
    throw new StudioError('BAD_INPUT', `${what}: pixel arrays do not match ${n}x${h}x${w}x${c}.`);
  }
  if (fixedSize && (h !== recipe.patchSize || w !== recipe.patchSize)) {
    throw new StudioError('BAD_INPUT', `${what} is ${h}x${w}; the recipe's patch size is ${recipe.patchSize}.`);
  }
}

function checkTrainingBatch(batch: PatchBatch, recipe: TrainRecipe, what: string): void {
  checkBatch(batch, recipe, what, true);
  if (batch.batch !== recipe.batchSize) {
    throw new StudioError('BAD_INPUT', `${what} has ${batch.batch} patches; the recipe's batch size is ${recipe.batchSize}.`);
  }
}

function sameHyper(a: Record<string, unknown>, b: Record<string, unknown>): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const k of keys) if (a[k] !== b[k]) return false;
  return true;
}

function setLearningRate(optimizer: tf.Optimizer, lr: number): void {
  // Adam reads this.learningRate on every applyGradients; tfjs declares it protected.
  (optimizer as unknown as { learningRate: number }).learningRate = lr;
}

function trainableVariables(model: tfl.LayersModel): tf.Variable[] {
  return model.trainableWeights.map((w) => w.read() as tf.Variable);
}

function mean(values: number[]): number {
  return values.length ? values.reduce((a, b) => a + b, 0) / values.length : NaN;
}

function batchTensors(batch: PatchBatch): [tf.Tensor4D, tf.Tensor4D] {
  const shape: [number, number, number, number] = [batch.batch, batch.height, batch.width, batch.channels];
  return [tf.tensor4d(batch.degraded, shape), tf.tensor4d(batch.clean, shape)];
}

/** Classifier inputs: clean patches (label 0) then degraded ones (label 1). */
function classifierBatch(batch: PatchBatch): [tf.Tensor4D, tf.Tensor2D] {
  const [degraded, clean] = batchTensors(batch);
  const x = tf.concat([clean, degraded], 0);
  const labels = tf.concat([tf.zeros([batch.batch, 1]), tf.ones([batch.batch, 1])], 0) as tf.Tensor2D;
  return [x, labels];
}

async function validate(
  model: tfl.LayersModel,
  source: PatchBatch[] | ValidationSource,
  recipe: TrainRecipe,
  task: ModelTask,
  lossFn: LossFn,
  signal: AbortSignal | undefined,
): Promise<ValidationResult> {
  const sampleCount = recipe.sampleCount;
  const batches = Array.isArray(source) ? source : source.batches(recipe.batchSize, signal);
  let index = 0;
  let lossSum = 0;
  let count = 0;
  let accSum = 0;
  const psnrs: number[] = [];
  const ssims: number[] = [];
  const samples: SampleImage[] = [];
  for await (const batch of batches) {
    throwIfAborted(signal);
    checkBatch(batch, recipe, `Validation batch ${++index}`, task === 'classify');
    if (task === 'classify') {
      const [loss, acc] = tf.tidy(() => {
        const [x, labels] = classifierBatch(batch);
        const p = model.predict(x) as tf.Tensor;
        return [binaryCrossEntropy(p, labels), binaryAccuracy(p, labels)];
      });
      const n = batch.batch * 2;
      lossSum += (await loss.data())[0]! * n;
      accSum += (await acc.data())[0]! * n;
      count += n;
      tf.dispose([loss, acc]);
      continue;
    }
    const want = Math.min(batch.batch, sampleCount - samples.length);
    const [loss, psnr, ssim, prediction] = tf.tidy(() => {
      const [x, y] = batchTensors(batch);
      const p = model.predict(x) as tf.Tensor4D;
      return [lossFn(p, y), psnrTf(p, y), ssimTf(p, y, { quantize: true }), want > 0 ? p : tf.zeros([0])];
    });
    try {
      lossSum += (await loss.data())[0]! * batch.batch;
      count += batch.batch;
      for (const v of await psnr.data()) psnrs.push(Math.min(v, PSNR_CAP));
      for (const v of await ssim.data()) ssims.push(v);
      if (want > 0) {
        const restored = (await prediction.data()) as Float32Array;
        const size = batch.height * batch.width * batch.channels;
        for (let i = 0; i < want; i++) {
          samples.push({
            degraded: batch.degraded.slice(i * size, (i + 1) * size),
            clean: batch.clean.slice(i * size, (i + 1) * size),
            restored: restored.slice(i * size, (i + 1) * size),
            height: batch.height,
            width: batch.width,
            channels: batch.channels,
          });
        }
      }
    } finally {
      tf.dispose([loss, psnr, ssim, prediction]);
    }
  }
  if (count === 0) return { valLoss: null, valPsnr: null, valSsim: null, valAccuracy: null, samples: [] };
  if (task === 'classify') {
    return { valLoss: lossSum / count, valPsnr: null, valSsim: null, valAccuracy: accSum / count, samples: [] };
  }
  return { valLoss: lossSum / count, valPsnr: mean(psnrs), valSsim: mean(ssims), valAccuracy: null, samples };
}

/** Runs (or resumes) a training run. See the file header for the behaviour. */
export async function train(options: TrainOptions): Promise<TrainResult> {
  const recipe = parseRecipe(options.recipe);
  const arch = getArchitecture(recipe.architecture);
  const task = arch.task;
  const checkpointsDir = join(options.workDir, 'checkpoints');
  const samplesDir = join(options.workDir, 'samples');
  const validation = options.validation ?? [];
  if (Array.isArray(validation)) {
    validation.forEach((b, i) => checkBatch(b, recipe, `Validation batch ${i + 1}`, task === 'classify'));
  }
  const backend = tf.getBackend();

  let model: tfl.LayersModel | null = null;
  let optimizer: tf.Optimizer | null = null;
  let discriminator: tfl.LayersModel | null = null;
  let discOptimizer: tf.Optimizer | null = null;
  let best: tf.Tensor[] | null = null;
  let ownsModel = true;

  let state: CheckpointState = {
    format: CHECKPOINT_FORMAT,
    epoch: 0,
    globalStep: 0,
    history: [],
    bestEpoch: null,
    bestScore: null,
    badEpochs: 0,
    elapsed: 0,
    recipe,
    hasBest: false,
    hasDiscriminator: false,
    backend,
    savedAt: new Date().toISOString(),
  };
  let lastCheckpoint: string | null = null;

  try {
    const start = options.resume ? await findLatestCheckpoint(checkpointsDir) : null;
    const makeAdam = (lr: number): tf.Optimizer =>
      tf.train.adam(lr, recipe.optimizer.beta1, recipe.optimizer.beta2, recipe.optimizer.epsilon);
    if (start) {
      const ck = await readCheckpoint(start);
      model = ck.model;
      const old = ck.state.recipe;
      if (old.architecture !== recipe.architecture || !sameHyper(old.hyper, recipe.hyper)) {
        tf.dispose([...ck.optimizerWeights.map((w) => w.tensor), ...(ck.best ?? [])]);
        ck.discriminator?.model.dispose();
        tf.dispose(ck.discriminator?.optimizerWeights.map((w) => w.tensor) ?? []);
        throw new StudioError(
          'BAD_INPUT',
          `Cannot resume: the checkpoint in ${start} trains ${old.architecture} ${JSON.stringify(old.hyper)}, not ${recipe.architecture} ${JSON.stringify(recipe.hyper)}.`,
        );
      }
      optimizer = makeAdam(recipe.optimizer.learningRate);
      await optimizer.setWeights(ck.optimizerWeights);
      tf.dispose(ck.optimizerWeights.map((w) => w.tensor));
      best = ck.best;
      if (ck.discriminator) {
        discriminator = ck.discriminator.model;
        discOptimizer = tf.train.adam(recipe.gan.discriminatorLearningRate, 0.5, 0.999);
        await discOptimizer.setWeights(ck.discriminator.optimizerWeights);
        tf.dispose(ck.discriminator.optimizerWeights.map((w) => w.tensor));
      }
      state = { ...ck.state, recipe };
      lastCheckpoint = start;
    } else {
      ownsModel = options.initialModel === undefined;
      model = options.initialModel ?? arch.build(recipe.hyper, { channels: 3 });
      optimizer = makeAdam(recipe.optimizer.learningRate);
    }
    if (!recipe.gan.enabled && discriminator) {
      // Resuming a GAN run without GAN: drop the discriminator.
      discriminator.dispose();
      discOptimizer?.dispose();
      discriminator = null;
      discOptimizer = null;
    }
    if (recipe.gan.enabled && !discriminator) {
      discriminator = buildDiscriminator(3, recipe.gan.discriminatorFilters);
      discOptimizer = tf.train.adam(recipe.gan.discriminatorLearningRate, 0.5, 0.999);
    }
    const resumedFrom = state.epoch;

    const lossFn = restoreLoss(recipe.loss, recipe);
    const variables = trainableVariables(model);
    const totalSteps = recipe.epochs * recipe.stepsPerEpoch;
    const scheduleCtx = { baseLearningRate: recipe.optimizer.learningRate, stepsPerEpoch: recipe.stepsPerEpoch, totalSteps };
    const signal = options.signal;
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
        if (signal?.aborted) {
          status = 'cancelled';
          break epochs;
        }
        const stepStart = performance.now();
        let batch: PatchBatch;
        try {
          batch = await options.sampler.nextBatch(signal);
        } catch (error) {
          if (signal?.aborted || isAbortError(error)) {
            status = 'cancelled';
            break epochs;
          }
          throw error;
        }
        if (signal?.aborted) {
          status = 'cancelled';
          break epochs;
        }
        checkTrainingBatch(batch, recipe, `Training batch ${state.globalStep + 1}`);
        lr = learningRateAt(state.globalStep, recipe.schedule, scheduleCtx);
        setLearningRate(optimizer, lr);
        let lossValue: number;
        let accuracy: number | null = null;
        if (task === 'classify') {
          const kept: { acc: tf.Scalar | null } = { acc: null };
          const loss = tf.tidy(() => {
            const [x, labels] = classifierBatch(batch);
            const { value, grads } = tf.variableGrads(() => {
              const p = model!.apply(x, { training: true }) as tf.Tensor;
              kept.acc = tf.keep(binaryAccuracy(p, labels));
              return binaryCrossEntropy(p, labels);
            }, variables);
            optimizer!.applyGradients(variables.map((v) => ({ name: v.name, tensor: grads[v.name]! })));
            return value;
          });
          lossValue = (await loss.data())[0]!;
          accuracy = (await kept.acc!.data())[0]!;
          tf.dispose([loss, kept.acc!]);
        } else if (discriminator && discOptimizer) {
          const [degraded, clean] = batchTensors(batch);
          const [pixel, adversarial, discLoss] = ganStep({
            generator: model,
            discriminator,
            generatorOptimizer: optimizer,
            discriminatorOptimizer: discOptimizer,
            pixelLoss: lossFn,
            adversarialWeight: recipe.gan.adversarialWeight,
            degraded,
            clean,
          });
          lossValue = (await pixel.data())[0]!;
          tf.dispose([degraded, clean, pixel, adversarial, discLoss]);
        } else {
          const loss = tf.tidy(() => {
            const [x, y] = batchTensors(batch);
            return optimizer!.minimize(
              () => lossFn(model!.apply(x, { training: true }) as tf.Tensor4D, y),
              true,
              variables,
            ) as tf.Scalar;
          });
          lossValue = (await loss.data())[0]!;
          loss.dispose();
        }
        if (!Number.isFinite(lossValue)) {
          throw new StudioError(
            'INTERNAL',
            `Training diverged at epoch ${epoch}, step ${step}: the loss is ${lossValue}. Lower the learning rate.`,
          );
        }
        state.globalStep += 1;
        losses.push(lossValue);
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
          loss: lossValue,
          accuracy,
          lr,
          patchesPerSecond: epochSeconds > 0 ? epochPatches / epochSeconds : 0,
          etaSeconds: Math.max(0, (totalSteps - state.globalStep) * stepSeconds + remainingEpochs * validationSeconds),
        });
      }
      const trainSeconds = (performance.now() - epochStart) / 1000;

      const valStart = performance.now();
      let val: ValidationResult;
      try {
        val = await validate(model, validation, recipe, task, lossFn, signal);
      } catch (error) {
        if (signal?.aborted || isAbortError(error)) {
          status = 'cancelled';
          break;
        }
        throw error;
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

      // Best epoch and early stopping: PSNR up for restorers, validation loss down for the classifier.
      const score = task === 'classify' ? val.valLoss : val.valPsnr;
      let improved = false;
      if (score !== null && Number.isFinite(score)) {
        const delta = recipe.earlyStopping?.minDelta ?? 0;
        const prev = state.bestScore;
        improved = prev === null || (task === 'classify' ? score < prev - delta : score > prev + delta);
        if (improved) {
          state.bestScore = score;
          state.bestEpoch = epoch;
          state.badEpochs = 0;
          if (recipe.restoreBest) {
            tf.dispose(best ?? []);
            best = model.getWeights().map((w) => w.clone());
            state.hasBest = true;
          }
        } else {
          state.badEpochs += 1;
        }
      }

      const samples = val.samples.length ? await writeSamples(join(samplesDir, checkpointName(epoch)), val.samples) : [];
      validationSeconds = (performance.now() - valStart) / 1000;
      record.elapsed = elapsed();
      state.history.push(record);
      state.epoch = epoch;
      state.elapsed = record.elapsed;
      state.hasDiscriminator = discriminator !== null;
      state.backend = backend;
      state.savedAt = new Date().toISOString();
      lastCheckpoint = await writeCheckpoint(checkpointsDir, {
        model,
        optimizer,
        state,
        best: recipe.restoreBest ? best : null,
        discriminator: discriminator && discOptimizer ? { model: discriminator, optimizer: discOptimizer } : null,
      });
      await pruneCheckpoints(checkpointsDir, options.keepCheckpoints ?? 1);

      await options.onEpoch?.({
        ...record,
        epochs: recipe.epochs,
        samples,
        checkpoint: lastCheckpoint,
        best: improved,
      });
      if (recipe.earlyStopping && state.badEpochs >= recipe.earlyStopping.patience) {
        status = 'early-stopped';
        break;
      }
    }

    // Put the best epoch's weights back unless the model still holds them (a cancel mid-epoch moved it on).
    if (recipe.restoreBest && best && (state.bestEpoch !== state.epoch || status === 'cancelled')) {
      model.setWeights(best);
    }
    const bestRecord = state.history.find((h) => h.epoch === state.bestEpoch) ?? state.history[state.history.length - 1];
    const result: TrainResult = {
      status,
      model,
      recipe,
      history: state.history,
      epochs: state.epoch,
      bestEpoch: state.bestEpoch,
      finalMetrics: {
        psnr: bestRecord?.valPsnr ?? null,
        ssim: bestRecord?.valSsim ?? null,
        loss: bestRecord?.valLoss ?? bestRecord?.loss ?? null,
        ...(task === 'classify' ? { accuracy: bestRecord?.valAccuracy ?? null } : {}),
      },
      seconds: status === 'cancelled' ? elapsed() : state.elapsed,
      backend,
      checkpoint: lastCheckpoint,
      resumedFrom,
    };
    return result;
  } catch (error) {
    if (ownsModel) model?.dispose();
    throw error;
  } finally {
    tf.dispose(best ?? []);
    optimizer?.dispose();
    discriminator?.dispose();
    discOptimizer?.dispose();
  }
}
