// The parts of train(), each on its own: the train step (restorer, classifier, GAN), the validation step,
// the checkpoint step and the start of a run. Each leaves the tensor count flat however often it is called,
// so a leak of one tensor per step (a loss not disposed, a best-weights clone not freed) fails here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EpochRecord, TrainRecipeInput } from '#shared/model-card';
import { endEpoch } from '../../../src/main/engine/train/epoch-end';
import { restoreLoss } from '../../../src/main/engine/train/losses';
import { disposeRunParts, parseRecipe, startRun, type RunParts } from '../../../src/main/engine/train/run-start';
import { trainableVariables, trainStep, type Trainee } from '../../../src/main/engine/train/step';
import { validate } from '../../../src/main/engine/train/validate';
import { makeBatch, validationSet } from './helpers';
import { useTestBackend } from '../../helpers/native';

await useTestBackend();

const PATCH = 16;
const BATCH = 2;

function recipeOf(extra: Partial<TrainRecipeInput> = {}): ReturnType<typeof parseRecipe> {
  return parseRecipe({
    architecture: 'dncnn',
    hyper: { depth: 3, filters: 8 },
    loss: 'l1',
    optimizer: { learningRate: 0.01 },
    epochs: 5,
    stepsPerEpoch: 2,
    batchSize: BATCH,
    patchSize: PATCH,
    sampleCount: 1,
    ...extra,
  });
}

const CLASSIFIER = { architecture: 'classifier', hyper: { inputSize: PATCH, padding: 'same', filters: 4, denseUnits: 8 } } as const;

async function withRun<T>(recipe: ReturnType<typeof parseRecipe>, body: (run: RunParts, dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'studio-steps-'));
  const run = await startRun(recipe, { checkpointsDir: join(dir, 'checkpoints') });
  try {
    return await body(run, dir);
  } finally {
    run.model.dispose();
    disposeRunParts(run);
    await rm(dir, { recursive: true, force: true });
  }
}

function traineeOf(run: RunParts, recipe: ReturnType<typeof parseRecipe>): Trainee {
  return {
    task: recipe.architecture === 'classifier' ? 'classify' : 'restore',
    model: run.model,
    optimizer: run.optimizer,
    variables: trainableVariables(run.model),
    lossFn: restoreLoss(recipe.loss, recipe),
    gan: run.discriminator && run.discOptimizer ? { discriminator: run.discriminator, optimizer: run.discOptimizer, adversarialWeight: 0.01 } : null,
  };
}

/** Tensor counts after each of `times` calls (the first call may create the optimizer's slots). */
async function countsOver(times: number, call: (i: number) => Promise<unknown>): Promise<number[]> {
  const counts: number[] = [];
  for (let i = 0; i < times; i++) {
    await call(i);
    counts.push(tf.memory().numTensors);
  }
  return counts;
}

const flat = (counts: number[]): boolean => counts.every((c) => c === counts[0]);

for (const [name, extra] of [
  ['a restorer', {}],
  ['the classifier', CLASSIFIER],
  ['a restorer with GAN', { gan: { enabled: true, discriminatorFilters: 2 } }],
] as const) {
  test(`the train step of ${name} updates the weights and leaks no tensors`, async () => {
    const recipe = recipeOf(extra as Partial<TrainRecipeInput>);
    await withRun(recipe, async (run) => {
      const trainee = traineeOf(run, recipe);
      const before = run.model.getWeights().map((w) => w.dataSync().slice());
      const losses: number[] = [];
      // After the first update (Adam makes its moment variables then) the count must not move.
      const counts = await countsOver(5, async (i) => {
        const result = await trainStep(trainee, makeBatch(i, BATCH, PATCH));
        losses.push(result.loss);
        assert.equal(result.accuracy === null, recipe.architecture !== 'classifier');
      });
      assert.ok(flat(counts), `numTensors after each step ${counts.join(',')}`);
      assert.ok(losses.every(Number.isFinite));
      const after = run.model.getWeights().map((w) => w.dataSync());
      assert.ok(before.some((w, i) => w.some((v, k) => v !== after[i]![k])), 'the step changed the weights');
    });
  });
}

for (const [name, extra] of [
  ['a restorer', {}],
  ['the classifier', CLASSIFIER],
] as const) {
  test(`the validation step of ${name} scores the crops and leaks no tensors`, async () => {
    const recipe = recipeOf(extra as Partial<TrainRecipeInput>);
    await withRun(recipe, async (run) => {
      const trainee = traineeOf(run, recipe);
      const crops = validationSet(2, BATCH, PATCH);
      const start = tf.memory().numTensors;
      const counts = await countsOver(4, async () => {
        const val = await validate(run.model, crops, recipe, trainee.task, trainee.lossFn, undefined);
        assert.ok(Number.isFinite(val.valLoss));
        if (trainee.task === 'classify') assert.ok(val.valAccuracy! >= 0 && val.valAccuracy! <= 1);
        else assert.ok(Number.isFinite(val.valPsnr) && val.samples.length === 1);
      });
      assert.deepEqual(counts, [start, start, start, start]);
    });
  });
}

test('the checkpoint step keeps one set of best weights, writes the checkpoint and leaks no tensors', async () => {
  const recipe = recipeOf({ restoreBest: true, earlyStopping: { patience: 2, minDelta: 0 } });
  await withRun(recipe, async (run, dir) => {
    const trainee = traineeOf(run, recipe);
    const crops = validationSet(1, BATCH, PATCH);
    const val = await validate(run.model, crops, recipe, 'restore', trainee.lossFn, undefined);
    const io = { workDir: dir, keepCheckpoints: 1, backend: tf.getBackend() };
    const record = (epoch: number): EpochRecord => ({ epoch, loss: 0.1, valLoss: 0.1, valPsnr: null, valSsim: null, lr: 0.01, patchesPerSecond: 1, elapsed: 0 });
    // A better PSNR every epoch: each call replaces the best weights (clones), so a clone not freed adds
    // as many tensors as the model has weights, per call.
    const improved: boolean[] = [];
    const counts = await countsOver(4, async (i) => {
      const end = await endEpoch(run, io, recipe, 'restore', record(i + 1), { ...val, valPsnr: 20 + i }, () => i);
      improved.push(end.improved);
      assert.equal(end.checkpoint, join(dir, 'checkpoints', `epoch-000${i + 1}`));
    });
    assert.ok(flat(counts), `numTensors after each checkpoint step ${counts.join(',')}`);
    assert.deepEqual(improved, [true, true, true, true]);
    assert.equal(run.state.bestEpoch, 4);
    assert.deepEqual(await readdir(join(dir, 'checkpoints')), ['epoch-0004']);
    // A worse epoch counts towards early stopping and keeps the best weights.
    const end = await endEpoch(run, io, recipe, 'restore', record(5), { ...val, valPsnr: 1 }, () => 5);
    assert.equal(end.improved, false);
    assert.equal(run.state.badEpochs, 1);
    assert.equal(tf.memory().numTensors, counts[0]);
  });
});

test('a damage detector keeps its lowest-validation-loss epoch, not its best PSNR', async () => {
  const recipe = recipeOf({ restoreBest: true });
  await withRun(recipe, async (run, dir) => {
    const io = { workDir: dir, keepCheckpoints: 1, backend: tf.getBackend() };
    const record = (epoch: number): EpochRecord => ({ epoch, loss: 0.5, valLoss: null, valPsnr: null, valSsim: null, lr: 0.01, patchesPerSecond: 1, elapsed: 0 });
    const none = { valSsim: null, valAccuracy: null, samples: [] };
    // Epoch 2 finds more damage (lower dice-bce loss) with a lower PSNR than epoch 1's timid map.
    await endEpoch(run, io, recipe, 'detect', record(1), { ...none, valLoss: 0.7, valPsnr: 26 }, () => 1);
    const second = await endEpoch(run, io, recipe, 'detect', record(2), { ...none, valLoss: 0.45, valPsnr: 24 }, () => 2);
    assert.equal(second.improved, true);
    const third = await endEpoch(run, io, recipe, 'detect', record(3), { ...none, valLoss: 0.6, valPsnr: 27 }, () => 3);
    assert.equal(third.improved, false);
    assert.equal(run.state.bestEpoch, 2);
  });
});

test('starting a run and disposing it leaves no tensors, also when a resume is refused', async () => {
  const recipe = recipeOf({ gan: { enabled: true, discriminatorFilters: 2 } });
  const baseline = tf.memory().numTensors;
  const dir = await mkdtemp(join(tmpdir(), 'studio-steps-'));
  try {
    const checkpointsDir = join(dir, 'checkpoints');
    const run = await startRun(recipe, { checkpointsDir });
    await endEpoch(run, { workDir: dir, keepCheckpoints: 1, backend: tf.getBackend() }, recipe, 'restore',
      { epoch: 1, loss: 0.1, valLoss: null, valPsnr: null, valSsim: null, lr: 0.01, patchesPerSecond: 1, elapsed: 0 },
      { valLoss: null, valPsnr: null, valSsim: null, valAccuracy: null, samples: [] }, () => 1);
    run.model.dispose();
    disposeRunParts(run);
    assert.equal(tf.memory().numTensors, baseline);
    for (let i = 0; i < 2; i++) {
      const resumed = await startRun(recipe, { checkpointsDir, resume: true });
      assert.equal(resumed.state.epoch, 1);
      assert.ok(resumed.discriminator);
      resumed.model.dispose();
      disposeRunParts(resumed);
      assert.equal(tf.memory().numTensors, baseline);
      const other = recipeOf({ hyper: { depth: 4, filters: 8 } });
      await assert.rejects(startRun(other, { checkpointsDir, resume: true }), /Cannot resume/);
      assert.equal(tf.memory().numTensors, baseline, 'a refused resume frees what it read');
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('validation PSNR and SSIM leave out the crops the synthesis left untouched; the loss still counts them', async () => {
  // A recipe that leaves one photo in ten as it was scores those crops at 40-50 dB: in the mean they outweighed
  // the restoration and picked the wrong best epoch.
  const recipe = recipeOf();
  await withRun(recipe, async (run) => {
    const trainee = traineeOf(run, recipe);
    const [noisy] = validationSet(1, BATCH, PATCH);
    const n = PATCH * PATCH * 3;
    const mixed = { ...noisy!, degraded: Float32Array.from(noisy!.degraded) };
    mixed.degraded.set(noisy!.clean.subarray(n, 2 * n), n); // the second crop untouched
    const firstOnly = { ...noisy!, batch: 1, degraded: noisy!.degraded.slice(0, n), clean: noisy!.clean.slice(0, n) };
    const allUntouched = { ...noisy!, degraded: Float32Array.from(noisy!.clean) };
    const score = (batch: typeof noisy) => validate(run.model, [batch!], recipe, 'restore', trainee.lossFn, undefined);
    const [a, b, c] = [await score(mixed), await score(firstOnly), await score(allUntouched)];
    assert.ok(Math.abs(a.valPsnr! - b.valPsnr!) < 1e-9, `PSNR ${a.valPsnr} with the untouched crop, ${b.valPsnr} without`);
    assert.ok(Math.abs(a.valSsim! - b.valSsim!) < 1e-9, `SSIM ${a.valSsim} with the untouched crop, ${b.valSsim} without`);
    assert.notEqual(a.valLoss, b.valLoss, 'the loss counts the untouched crop');
    assert.ok(Number.isFinite(c.valPsnr) && c.valPsnr! > b.valPsnr!, 'nothing degraded at all ("none"): the untouched crops are scored');
  });
});
