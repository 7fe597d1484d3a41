// Tiled restoration equals whole-image restoration (within 1/255 on every pixel), on odd sizes, with
// models that need multiples of 4, and leaves no tensors behind.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { axisWeight, chooseTileSize, planAxis, restoreTiled, type TileModel } from '../../../src/main/engine/infer/tiles';
import type { RgbImage } from '../../../src/main/engine/data/image';
import { useTestBackend } from '../../helpers/native';

before(async () => {
  await useTestBackend();
});

function randomImage(width: number, height: number, seed: number): RgbImage {
  let s = seed;
  const data = new Float32Array(width * height * 3);
  for (let i = 0; i < data.length; i++) {
    s = (s * 1664525 + 1013904223) >>> 0;
    data[i] = s / 2 ** 32;
  }
  return { width, height, data };
}

/** A small residual CNN: 3 convs of 3x3 (receptive radius 3) with fixed random weights. */
function residualCnn(seed: number): { model: TileModel; dispose: () => void } {
  const w1 = tf.randomNormal([3, 3, 3, 8], 0, 0.3, 'float32', seed);
  const w2 = tf.randomNormal([3, 3, 8, 8], 0, 0.3, 'float32', seed + 1);
  const w3 = tf.randomNormal([3, 3, 8, 3], 0, 0.3, 'float32', seed + 2);
  const model: TileModel = (x) =>
    tf.tidy(() => {
      const h = tf.relu(tf.conv2d(x, w1 as tf.Tensor4D, 1, 'same'));
      const h2 = tf.relu(tf.conv2d(h, w2 as tf.Tensor4D, 1, 'same'));
      return tf.add(x, tf.conv2d(h2, w3 as tf.Tensor4D, 1, 'same')) as tf.Tensor4D;
    });
  return { model, dispose: () => tf.dispose([w1, w2, w3]) };
}

/** Pool by 2 twice then upsample back (needs multiples of 4), like the study's autoencoder. */
function poolingNet(seed: number): { model: TileModel; dispose: () => void } {
  const w1 = tf.randomNormal([3, 3, 3, 6], 0, 0.3, 'float32', seed);
  const w2 = tf.randomNormal([3, 3, 6, 3], 0, 0.3, 'float32', seed + 1);
  const model: TileModel = (x) =>
    tf.tidy(() => {
      const h = tf.maxPool(tf.relu(tf.conv2d(x, w1 as tf.Tensor4D, 1, 'same')), 2, 2, 'same');
      const h2 = tf.maxPool(h, 2, 2, 'same');
      const up = tf.image.resizeNearestNeighbor(h2 as tf.Tensor4D, [x.shape[1], x.shape[2]]);
      return tf.conv2d(up, w2 as tf.Tensor4D, 1, 'same') as tf.Tensor4D;
    });
  return { model, dispose: () => tf.dispose([w1, w2]) };
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
  return worst;
}

test('axis plans cover every pixel and blend weights sum to one', () => {
  for (const [length, tile, overlap, multiple] of [
    [100, 40, 8, 1],
    [257, 64, 16, 1],
    [65, 64, 16, 1],
    [1000, 128, 32, 1],
    [33, 64, 16, 1],
    [301, 72, 24, 4],
  ] as const) {
    const segments = planAxis(length, tile, overlap, multiple);
    assert.ok(segments.every((s) => s.start % multiple === 0), 'tiles start on the multiple');
    assert.ok(segments.every((s) => s.end - s.start <= tile), 'no tile is larger than asked');
    const feather = Math.min(Math.floor(overlap / 2), ...segments.map((s) => Math.floor((s.coreEnd - s.coreStart) / 2)));
    for (let p = 0; p < length; p++) {
      const sum = segments.reduce((acc, s) => acc + (p >= s.start && p < s.end ? axisWeight(s, p, length, feather) : 0), 0);
      assert.ok(Math.abs(sum - 1) < 1e-9, `weights at ${p} of ${length} sum to ${sum}`);
      for (const s of segments) {
        if (p < s.start || p >= s.end) assert.equal(axisWeight(s, p, length, feather) === 0 || p < s.start || p >= s.end, true);
      }
    }
  }
});

test('tiled output equals whole-image output within 1/255 (odd sizes, residual CNN)', async () => {
  const { model, dispose } = residualCnn(7);
  const image = randomImage(131, 97, 3);
  const whole = await restoreTiled(model, image, { tile: 4096, overlap: 0 });
  const tiled = await restoreTiled(model, image, { tile: 48, overlap: 8 });
  assert.ok(maxAbsDiff(whole.data, tiled.data) < 1 / 255, `max diff ${maxAbsDiff(whole.data, tiled.data)}`);
  assert.ok(maxAbsDiff(whole.data, tiled.data) < 1e-4, 'exact where the receptive field fits the overlap');
  dispose();
});

test('models that need multiples of 4 are mirror-padded per tile', async () => {
  const { model, dispose } = poolingNet(11);
  const image = randomImage(150, 130, 5);
  const whole = await restoreTiled(model, image, { tile: 4096, overlap: 0, multiple: 4 });
  assert.equal(whole.data.length, 150 * 130 * 3);
  // Tiles start on multiples of 4, so the pooling grid matches the whole image's; the receptive radius
  // (about 11 pixels) fits in half the overlap.
  const tiled = await restoreTiled(model, image, { tile: 72, overlap: 24, multiple: 4 });
  const diff = maxAbsDiff(whole.data, tiled.data);
  assert.ok(diff < 1 / 255, `max diff ${diff}`);
  dispose();
});

test('tiling leaves no tensors behind and reports progress', async () => {
  const { model, dispose } = residualCnn(3);
  const image = randomImage(100, 80, 9);
  await restoreTiled(model, image, { tile: 40, overlap: 8 });
  const before = tf.memory().numTensors;
  const fractions: number[] = [];
  for (let i = 0; i < 5; i++) await restoreTiled(model, image, { tile: 40, overlap: 8, onProgress: (f) => fractions.push(f) });
  assert.equal(tf.memory().numTensors, before);
  assert.equal(fractions.at(-1), 1);
  dispose();
});

test('cancel stops between tiles', async () => {
  const { model, dispose } = residualCnn(5);
  const controller = new AbortController();
  let tiles = 0;
  const run = restoreTiled(model, randomImage(200, 200, 1), {
    tile: 40,
    overlap: 8,
    signal: controller.signal,
    onProgress: () => {
      if (++tiles === 2) controller.abort();
    },
  });
  await assert.rejects(run, (e: Error & { code?: string }) => e.code === 'CANCELLED');
  assert.equal(tiles, 2);
  dispose();
});

test('tile size follows the memory budget', () => {
  assert.equal(chooseTileSize(1024, 4 * 1024 ** 3), 2048);
  assert.equal(chooseTileSize(4096, 256 * 1024 ** 2), 256);
  assert.equal(chooseTileSize(1e9, 1), 128);
});
