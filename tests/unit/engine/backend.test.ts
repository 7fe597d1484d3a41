// Backend selection: explicit preferences, a clear BACKEND_UNAVAILABLE for tensorflow (tfjs-node-gpu is
// not installed here), wasm with SIMD and threads, and the status it reports.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import { backendStatus, initBackend, resolvePreference, wasmThreadRequest } from '../../../src/main/engine/backend';
import { StudioError } from '#shared/rpc/errors';
import { BackendStatusSchema } from '#shared/engine-types';

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

test('asking for tensorflow without tfjs-node-gpu is BACKEND_UNAVAILABLE naming why', async () => {
  await assert.rejects(initBackend('tensorflow'), (e: unknown) => {
    assert.ok(e instanceof StudioError);
    assert.equal(e.code, 'BACKEND_UNAVAILABLE');
    assert.match(e.message, /tensorflow/);
    assert.match(e.message, /tfjs-node-gpu is not installed/);
    return true;
  });
});

test('auto picks wasm here, with SIMD and the threads asked for (default: one per core)', async () => {
  const status = await initBackend('auto');
  BackendStatusSchema.parse(status);
  assert.equal(status.backend, 'wasm');
  assert.equal(tf.getBackend(), 'wasm');
  assert.deepEqual(status.backends, ['wasm', 'cpu']);
  assert.equal(status.gpu, null);
  assert.equal(status.simd, true);
  assert.equal(status.threads, wasmThreadRequest().threads);
  assert.match(status.unavailable.tensorflow ?? '', /not installed/);
  assert.match(status.detail ?? '', /SIMD/);
  assert.deepEqual(backendStatus(), status);
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
