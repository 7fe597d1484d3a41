// Where a training run starts: the recipe checked and resolved, then a fresh model (or the caller's, for
// fine-tuning) with a new optimizer, or everything a checkpoint holds when resuming.
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { StudioError } from '#shared/rpc/errors';
import { TrainRecipeSchema, type TrainRecipe, type TrainRecipeInput } from '#shared/model-card';
import { getArchitecture } from '../models/index';
import { adam } from './adam';
import { CHECKPOINT_FORMAT, findLatestCheckpoint, readCheckpoint, type CheckpointState } from './checkpoint';
import { buildDiscriminator } from './gan';

export function parseRecipe(input: TrainRecipeInput): TrainRecipe {
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

function sameHyper(a: Record<string, unknown>, b: Record<string, unknown>): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const k of keys) if (a[k] !== b[k]) return false;
  return true;
}

/** The tensors of a run; `dispose` frees all but the model, which is the caller's once training ends. */
export interface RunParts {
  model: tfl.LayersModel;
  optimizer: tf.Optimizer;
  discriminator: tfl.LayersModel | null;
  discOptimizer: tf.Optimizer | null;
  /** Best-epoch weights (clones) when recipe.restoreBest and an epoch has been scored. */
  best: tf.Tensor[] | null;
  state: CheckpointState;
  /** The checkpoint the run resumed from, else null. */
  checkpoint: string | null;
  /** False when the model is the caller's initialModel (the caller disposes it even on failure). */
  ownsModel: boolean;
}

export function disposeRunParts(parts: Pick<RunParts, 'best' | 'optimizer' | 'discriminator' | 'discOptimizer'>): void {
  tf.dispose(parts.best ?? []);
  parts.optimizer.dispose();
  parts.discriminator?.dispose();
  parts.discOptimizer?.dispose();
}

function freshState(recipe: TrainRecipe, backend: string): CheckpointState {
  return {
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
}

/**
 * The model, optimizers and state to train from: the newest checkpoint in `checkpointsDir` when resuming
 * (refused when it trains another architecture), else a fresh start. A GAN discriminator is added or dropped
 * to match the recipe. Nothing is left allocated when it throws.
 */
export async function startRun(
  recipe: TrainRecipe,
  options: { checkpointsDir: string; resume?: boolean; initialModel?: tfl.LayersModel },
): Promise<RunParts> {
  const arch = getArchitecture(recipe.architecture);
  const backend = tf.getBackend();
  const makeAdam = (lr: number): tf.Optimizer => adam(lr, recipe.optimizer.beta1, recipe.optimizer.beta2, recipe.optimizer.epsilon);
  const start = options.resume ? await findLatestCheckpoint(options.checkpointsDir) : null;
  let parts: RunParts;
  if (start) {
    const ck = await readCheckpoint(start);
    const old = ck.state.recipe;
    if (old.architecture !== recipe.architecture || !sameHyper(old.hyper, recipe.hyper)) {
      ck.model.dispose();
      tf.dispose([...ck.optimizerWeights.map((w) => w.tensor), ...(ck.best ?? [])]);
      ck.discriminator?.model.dispose();
      tf.dispose(ck.discriminator?.optimizerWeights.map((w) => w.tensor) ?? []);
      throw new StudioError(
        'BAD_INPUT',
        `Cannot resume: the checkpoint in ${start} trains ${old.architecture} ${JSON.stringify(old.hyper)}, not ${recipe.architecture} ${JSON.stringify(recipe.hyper)}.`,
      );
    }
    const optimizer = makeAdam(recipe.optimizer.learningRate);
    parts = { model: ck.model, optimizer, discriminator: null, discOptimizer: null, best: ck.best, state: { ...ck.state, recipe }, checkpoint: start, ownsModel: true };
    try {
      await optimizer.setWeights(ck.optimizerWeights);
      tf.dispose(ck.optimizerWeights.map((w) => w.tensor));
      if (ck.discriminator) {
        parts.discriminator = ck.discriminator.model;
        parts.discOptimizer = adam(recipe.gan.discriminatorLearningRate, 0.5, 0.999);
        await parts.discOptimizer.setWeights(ck.discriminator.optimizerWeights);
        tf.dispose(ck.discriminator.optimizerWeights.map((w) => w.tensor));
      }
    } catch (error) {
      parts.model.dispose();
      disposeRunParts(parts);
      throw error;
    }
  } else {
    const model = options.initialModel ?? arch.build(recipe.hyper, { channels: 3 });
    parts = {
      model,
      optimizer: makeAdam(recipe.optimizer.learningRate),
      discriminator: null,
      discOptimizer: null,
      best: null,
      state: freshState(recipe, backend),
      checkpoint: null,
      ownsModel: options.initialModel === undefined,
    };
  }
  if (!recipe.gan.enabled && parts.discriminator) {
    // Resuming a GAN run without GAN: drop the discriminator.
    parts.discriminator.dispose();
    parts.discOptimizer?.dispose();
    parts.discriminator = null;
    parts.discOptimizer = null;
  }
  if (recipe.gan.enabled && !parts.discriminator) {
    parts.discriminator = buildDiscriminator(3, recipe.gan.discriminatorFilters);
    parts.discOptimizer = adam(recipe.gan.discriminatorLearningRate, 0.5, 0.999);
  }
  return parts;
}
