// Every gradient the model zoo and the losses use (src/main/engine/kernels/gradient-cases.ts), on wasm
// against cpu (or against the exact adjoint where cpu's own kernel is wrong), on fresh random inputs; and
// one training step of every zoo architecture on wasm.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { initBackend } from '../../../src/main/engine/backend';
import { GRADIENT_CASES } from '../../../src/main/engine/kernels/gradient-cases';
import { gradientsOn, referenceGradients } from '../../../src/main/engine/kernels/probe';
import { ARCHITECTURES } from '../../../src/main/engine/models';
import { buildReferenceCnn } from '../../../src/main/engine/models/reference';
import { describeFailure, relativeError, RUN_SEED, TOLERANCE } from './helpers';

await initBackend('wasm');

for (const [i, c] of GRADIENT_CASES.entries()) {
  test(`gradient on wasm: ${c.name}`, async () => {
    const seed = RUN_SEED + 1000 * i;
    const expected = await referenceGradients(c, seed);
    const actual = await gradientsOn('wasm', c, seed);
    assert.equal(actual.length, expected.length);
    actual.forEach((a, j) => {
      const err = relativeError(a, expected[j]!);
      assert.ok(err < TOLERANCE, describeFailure(`${c.name}, input ${j}`, err));
    });
  });
}

/** One Adam step on MSE (binary cross-entropy for a 1-unit sigmoid output); returns the loss. */
function trainStep(model: tfl.LayersModel, optimizer: tf.Optimizer, x: tf.Tensor, y: tf.Tensor): number {
  return tf.tidy(() => {
    const { value, grads } = tf.variableGrads(() => {
      const p = model.apply(x, { training: true }) as tf.Tensor;
      return (p.shape[p.rank - 1] === 1 && p.rank === 2 ? tf.losses.sigmoidCrossEntropy(y, p) : tf.losses.meanSquaredError(y, p)) as tf.Scalar;
    });
    optimizer.applyGradients(Object.entries(grads).map(([name, tensor]) => ({ name, tensor: tensor! })));
    return value.dataSync()[0]!;
  });
}

function inputSize(model: tfl.LayersModel, fallback: number): [number, number] {
  const [, h, w] = model.inputs[0]!.shape;
  return [h ?? fallback, w ?? fallback];
}

test('the reference CNN trains on wasm like on cpu (same loss after 3 steps)', async () => {
  const losses: number[] = [];
  for (const backend of ['cpu', 'wasm']) {
    await tf.setBackend(backend);
    const model = buildReferenceCnn({ layers: 4, filters: 8 });
    // Same weights on both backends.
    const weights = model.getWeights().map((w, i) => tf.tidy(() => tf.reshape(tf.mul(tf.sin(tf.add(tf.range(0, w.size), i)), 0.2), w.shape)));
    model.setWeights(weights);
    tf.dispose(weights);
    const x = tf.tidy(() => tf.reshape(tf.cos(tf.range(0, 2 * 12 * 12 * 3)), [2, 12, 12, 3]));
    const y = tf.tidy(() => tf.mul(x, 0.5));
    const optimizer = tf.train.adam(1e-2);
    let loss = 0;
    for (let s = 0; s < 3; s++) loss = trainStep(model, optimizer, x, y);
    losses.push(loss);
    tf.dispose([x, y]);
    optimizer.dispose();
    model.dispose();
  }
  assert.ok(Math.abs(losses[0]! - losses[1]!) / losses[0]! < 1e-4, `cpu ${losses[0]} vs wasm ${losses[1]}`);
});

test('every architecture of the model zoo trains one step on wasm', async () => {
  await tf.setBackend('wasm');
  for (const [id, arch] of Object.entries(ARCHITECTURES)) {
    let model = arch.build({}, { height: 16, width: 16 });
    const [h, w] = inputSize(model, 16);
    if (h !== 16 || w !== 16) {
      model.dispose();
      model = arch.build({}, { height: h, width: w });
    }
    const optimizer = tf.train.adam(1e-3);
    // A filler takes the photo and its damage mask (4 channels), every other architecture the photo.
    const x = tf.randomUniform([2, h, w, model.inputs[0]!.shape[3]!]);
    const out = model.outputs[0]!.shape;
    const y = out.length === 2 ? tf.tensor2d([[0], [1]]) : tf.randomUniform([2, h, w, 3]);
    const loss = trainStep(model, optimizer, x, y);
    assert.ok(Number.isFinite(loss), `${id}: loss ${loss}`);
    tf.dispose([x, y]);
    optimizer.dispose();
    model.dispose();
  }
});
