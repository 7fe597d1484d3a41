// The studio's flat Adam (src/main/engine/train/adam.ts) is tfjs' Adam with fewer ops: the same weights after
// several steps, the same getWeights (names, order, values), a resume through setWeights that continues
// exactly as tfjs' would, tfjs' skipping of a weight without a gradient, and no tensors left behind.
// Runs on the test backend (cpu, or native TensorFlow in the runner's second pass).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import type { NamedTensor } from '@tensorflow/tfjs-core/dist/tensor_types';
import { adam } from '../../../src/main/engine/train/adam';
import { useTestBackend } from '../../helpers/native';

await useTestBackend();

const SHAPES = [[3, 3, 3, 8], [8], [3, 3, 8, 8], [8], [1, 1, 8, 3], [3]];
/** Same update within float rounding: both run the same float32 ops per value. */
const TOLERANCE = 1e-6;

function seeded(shape: number[], seed: number): tf.Tensor {
  const size = shape.reduce((a, b) => a * b, 1);
  const values = new Float32Array(size);
  let s = seed;
  for (let i = 0; i < size; i++) {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    values[i] = (s / 2 ** 31) * 2 - 1;
  }
  return tf.tensor(values, shape);
}

let run = 0;
function weights(): tf.Variable[] {
  run++;
  return SHAPES.map((shape, i) => {
    const initial = seeded(shape, 11 + i);
    const v = tf.variable(initial, true, `adam_test_${run}_${i}`);
    initial.dispose();
    return v;
  });
}

function gradients(vars: tf.Variable[], step: number, skip: number | null = null): NamedTensor[] {
  return vars.map((v, i) => ({ name: v.name, tensor: (i === skip ? null : seeded(v.shape, 1000 * step + i)) as tf.Tensor }));
}

function maxDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!);
}

function assertSameWeights(a: tf.Variable[], b: tf.Variable[], what: string): void {
  a.forEach((v, i) => assert.ok(maxDiff(v, b[i]!) <= TOLERANCE, `${what}: weight ${i} differs by ${maxDiff(v, b[i]!)}`));
}

async function steps(optimizer: tf.Optimizer, vars: tf.Variable[], from: number, to: number, skipAt?: [number, number]): Promise<void> {
  for (let s = from; s < to; s++) {
    const grads = gradients(vars, s, skipAt && skipAt[0] === s ? skipAt[1] : null);
    optimizer.applyGradients(grads);
    tf.dispose(grads.map((g) => g.tensor).filter(Boolean));
  }
}

test('flat Adam updates the weights as tf.train.adam does, step after step', async () => {
  const before = tf.memory().numTensors;
  const [a, b] = [weights(), weights()];
  const theirs = tf.train.adam(0.01, 0.9, 0.999, 1e-7);
  const ours = adam(0.01, 0.9, 0.999, 1e-7);
  await steps(theirs, a, 0, 6);
  await steps(ours, b, 0, 6);
  assertSameWeights(b, a, '6 steps');
  // A learning-rate change between steps (the schedule sets it as tfjs' Adam reads it).
  (theirs as unknown as { learningRate: number }).learningRate = 0.002;
  (ours as unknown as { learningRate: number }).learningRate = 0.002;
  await steps(theirs, a, 6, 8);
  await steps(ours, b, 6, 8);
  assertSameWeights(b, a, 'after a learning-rate change');
  theirs.dispose();
  ours.dispose();
  tf.dispose([...a, ...b]);
  assert.equal(tf.memory().numTensors, before);
});

test("flat Adam's getWeights are tf.train.adam's, and a resume from either continues the same way", async () => {
  const before = tf.memory().numTensors;
  const [a, b, c] = [weights(), weights(), weights()];
  const theirs = tf.train.adam(0.01);
  const ours = adam(0.01);
  await steps(theirs, a, 0, 4);
  await steps(ours, b, 0, 4);
  const theirState = await theirs.getWeights();
  const ourState = await ours.getWeights();
  assert.equal(ourState.length, theirState.length);
  assert.equal(ourState[0]!.name, 'iter');
  assert.equal(ourState[0]!.tensor.dataSync()[0], 4);
  ourState.slice(1).forEach((w, i) => {
    const expected = theirState[i + 1]!;
    // tfjs names the moments after the weights ("<weight>/m", "<weight>/v"); the weights differ here by run.
    assert.equal(w.name.replace(/^adam_test_\d+/, ''), expected.name.replace(/^adam_test_\d+/, ''));
    assert.deepEqual(w.tensor.shape, expected.tensor.shape);
    assert.ok(maxDiff(w.tensor, expected.tensor) <= TOLERANCE, `${w.name} differs`);
  });
  // Resume: a fresh flat Adam given tfjs' state, on weights equal to tfjs' own.
  c.forEach((v, i) => v.assign(a[i]!));
  const resumed = adam(0.01);
  await resumed.setWeights(theirState);
  await steps(theirs, a, 4, 7);
  await steps(resumed, c, 4, 7);
  await steps(ours, b, 4, 7);
  assertSameWeights(c, a, 'resumed from tfjs state');
  assertSameWeights(b, a, 'after getWeights');
  tf.dispose([theirState[0]!.tensor, ourState[0]!.tensor]);
  [theirs, ours, resumed].forEach((o) => o.dispose());
  tf.dispose([...a, ...b, ...c]);
  assert.equal(tf.memory().numTensors, before);
});

test('flat Adam skips a weight without a gradient, as tfjs does', async () => {
  const before = tf.memory().numTensors;
  const [a, b] = [weights(), weights()];
  const theirs = tf.train.adam(0.01);
  const ours = adam(0.01);
  await steps(theirs, a, 0, 5, [2, 1]);
  await steps(ours, b, 0, 5, [2, 1]);
  assertSameWeights(b, a, 'with a missing gradient at step 2');
  theirs.dispose();
  ours.dispose();
  tf.dispose([...a, ...b]);
  assert.equal(tf.memory().numTensors, before);
});

test('one flat Adam step runs far fewer ops than tfjs Adam', async () => {
  const vars = weights();
  const count = async (optimizer: tf.Optimizer): Promise<number> => {
    const grads = gradients(vars, 0);
    const profile = await tf.profile(() => optimizer.applyGradients(grads));
    tf.dispose(grads.map((g) => g.tensor));
    optimizer.dispose();
    return profile.kernels.length;
  };
  const theirs = await count(tf.train.adam(0.01));
  const ours = await count(adam(0.01));
  assert.ok(ours * 2 < theirs, `flat Adam ran ${ours} kernels, tfjs Adam ${theirs}`);
  tf.dispose(vars);
});
