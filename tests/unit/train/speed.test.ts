// The wizard's speed estimate times real training steps on the engine's backend.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../../src/main/engine/backend';
import { measureTrainSpeed } from '../../../src/main/engine/train/speed';
import { ARCHITECTURES } from '../../../src/main/engine/models/index';

await initBackend('wasm');

test('measureTrainSpeed times real steps, scales to the requested batch and leaks no tensors', async () => {
  const before = tf.memory().numTensors;
  const small = await measureTrainSpeed({ arch: 'esrcnn', batchSize: 2, patch: 32 });
  assert.equal(tf.memory().numTensors, before, 'tensors after measuring');
  assert.equal(small.backend, 'wasm');
  assert.equal(small.measuredBatch, 2);
  assert.equal(small.measuredPatch, 32);
  assert.ok(small.secondsPerStep > 0 && small.secondsPerStep < 30, `${small.secondsPerStep} s per step`);
  assert.ok(Math.abs(small.patchesPerSecond * small.secondsPerStep - 2) < 1e-9);
  // GFLOP/s follows from the architecture's multiply-adds at the measured time.
  const macs = ARCHITECTURES.esrcnn.macsPerPixel() * 32 * 32 * 2;
  assert.ok(Math.abs(small.gflops - (6 * macs) / small.secondsPerStep / 1e9) < 1e-6);

  // A batch of 32 is timed at batch 2 and scaled: 16x the time per step of batch 2 (within timing noise).
  const big = await measureTrainSpeed({ arch: 'esrcnn', batchSize: 32, patch: 32 });
  const two = await measureTrainSpeed({ arch: 'esrcnn', batchSize: 2, patch: 32 });
  assert.equal(big.measuredBatch, 2);
  const ratio = big.secondsPerStep / two.secondsPerStep;
  assert.ok(ratio > 8 && ratio < 32, `batch 32 / batch 2 step time ratio ${ratio}`);
  assert.equal(tf.memory().numTensors, before, 'tensors after three measurements');
});

test('measureTrainSpeed rejects an unknown architecture', async () => {
  await assert.rejects(measureTrainSpeed({ arch: 'nope' as 'unet', batchSize: 2, patch: 32 }));
});
