// Backend selection: explicit preferences; tensorflow where the native engine is built (npm run
// engine:native) and a clear BACKEND_UNAVAILABLE where it is not; wasm with SIMD and threads; the status.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import { backendStatus, initBackend, resolvePreference, wasmThreadRequest } from '../../../src/main/engine/backend';
import { StudioError } from '#shared/rpc/errors';
import { BackendStatusSchema } from '#shared/engine-types';
import { EXPECTED_BACKENDS, NATIVE } from '../../helpers/native';

test('resolvePreference accepts auto|tensorflow|wasm|cpu and refuses anything else', () => {
  assert.equal(resolvePreference(undefined), 'auto');
  for (const p of ['auto', 'tensorflow', 'wasm', 'cpu']) assert.equal(resolvePreference(p), p);
  assert.throws(() => resolvePreference('gpu'), (e: unknown) => e instanceof StudioError && e.code === 'BAD_INPUT');
});

test('STUDIO_THREADS sets the wasm thread count (0 or unset: one per core, at most 8)', () => {
  const auto = Math.min(availableParallelism(), 8);
  assert.equal(wasmThreadRequest({}).threads, auto);
  assert.equal(wasmThreadRequest({ STUDIO_THREADS: '0' }).threads, auto);
  assert.equal(wasmThreadRequest({ STUDIO_THREADS: '1' }).threads, 1);
  assert.equal(wasmThreadRequest({ STUDIO_THREADS: '64' }).threads, 8);
  assert.throws(() => wasmThreadRequest({ STUDIO_THREADS: 'many' }), (e: unknown) => e instanceof StudioError && e.code === 'BAD_INPUT');
});

test('tensorflow runs where the native engine is built, and names its TensorFlow and origin', { skip: !NATIVE && 'the native engine is not built here' }, async () => {
  const status = await initBackend('tensorflow');
  BackendStatusSchema.parse(status);
  assert.equal(tf.getBackend(), 'tensorflow');
  assert.match(status.tensorflow?.version ?? '', /^\d+\.\d+/);
  assert.match(status.tensorflow?.device ?? '', /CPU|GPU/);
  assert.match(status.detail ?? '', /native TensorFlow \d/);
  assert.equal(status.nativeHint, undefined);
  const x = tf.tensor2d([[1, 2], [3, 4]]);
  const y = tf.matMul(x, x);
  assert.deepEqual(Array.from(await y.data()), [7, 10, 15, 22]);
  tf.dispose([x, y]);
});

test('asking for tensorflow without tfjs-node-gpu is BACKEND_UNAVAILABLE naming why', { skip: NATIVE && 'the native engine is built here' }, async () => {
  await assert.rejects(initBackend('tensorflow'), (e: unknown) => {
    assert.ok(e instanceof StudioError);
    assert.equal(e.code, 'BACKEND_UNAVAILABLE');
    assert.match(e.message, /tensorflow/);
    assert.match(e.message, /tfjs-node-gpu is not installed/);
    return true;
  });
});

test('auto picks the best backend that loads: tensorflow where built, else wasm (with the way to native)', async () => {
  const status = await initBackend('auto');
  BackendStatusSchema.parse(status);
  assert.equal(status.backend, EXPECTED_BACKENDS[0]);
  assert.equal(tf.getBackend(), EXPECTED_BACKENDS[0]);
  assert.deepEqual(status.backends, EXPECTED_BACKENDS);
  assert.equal(status.gpu, null);
  if (NATIVE) {
    assert.deepEqual(status.unavailable, {});
  } else {
    assert.match(status.unavailable.tensorflow ?? '', /not installed/);
    assert.match(status.nativeHint ?? '', /npm run engine:native/);
  }
  assert.deepEqual(backendStatus(), status);
});

test('wasm runs with SIMD and the threads asked for (default: one per core)', async () => {
  const status = await initBackend('wasm');
  assert.equal(status.simd, true);
  assert.equal(status.threads, wasmThreadRequest().threads);
  assert.match(status.detail ?? '', /SIMD/);
});

test('wasm trains a conv (the kernels are registered)', async () => {
  await initBackend('wasm');
  const x = tf.randomNormal([2, 6, 6, 3]) as tf.Tensor4D;
  const w = tf.randomNormal([3, 3, 3, 4]) as tf.Tensor4D;
  const g = tf.grad((f: tf.Tensor) => tf.sum(tf.conv2d(x, f as tf.Tensor4D, 1, 'same')))(w);
  assert.deepEqual(g.shape, [3, 3, 3, 4]);
  tf.dispose([x, w, g]);
});

test('an explicit cpu preference switches to cpu and says so', async () => {
  const status = await initBackend('cpu');
  assert.equal(status.backend, 'cpu');
  assert.equal(tf.getBackend(), 'cpu');
  assert.equal(status.threads, 1);
  assert.equal(status.simd, null);
});
