// Damage detection end to end: the mask metrics, the detector architecture, and a short training run of it
// through the engine contract that saves a 'detect' model which the restore pickers leave out.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { EngineHost, inProcessLauncher } from '../../../src/main/services/engine-host';
import { loadPackageDir } from '../../../src/main/engine/package/index';
import { ARCHITECTURES } from '../../../src/main/engine/models/index';
import { addCounts, countMask, maskFromRgb, scoreCounts } from '../../../src/main/engine/metrics/index';
import { diceBceLoss } from '../../../src/main/engine/train/losses';
import type { TrainDoneEvent } from '#shared/training';
import { cleanFolder, tempDir } from '../methods/fixtures';
import { TEST_BACKEND, useTestBackend } from '../../helpers/native';

await useTestBackend();

test('mask scores: precision, recall and F1 count flagged against damaged pixels', () => {
  const truth = [1, 1, 1, 1, 0, 0, 0, 0, 0.1, 0.3];
  const found = [0.9, 0.8, 0.2, 0.6, 0.7, 0, 0, 0, 0.9, 0.1];
  const c = countMask(found, truth);
  // damaged (>= 0.25): indices 0-3 and 9; flagged (>= 0.5): 0, 1, 3, 4, 8.
  assert.deepEqual(c, { tp: 3, fp: 2, fn: 2, tn: 3 });
  const s = scoreCounts(c);
  assert.equal(s.precision, 3 / 5);
  assert.equal(s.recall, 3 / 5);
  assert.ok(Math.abs(s.f1 - 0.6) < 1e-12);
  assert.equal(s.falseAlarmRate, 2 / 5);
  assert.deepEqual(scoreCounts({ tp: 0, fp: 0, fn: 0, tn: 9 }).f1, 1, 'nothing to find and nothing flagged is perfect');
  assert.equal(scoreCounts({ tp: 0, fp: 4, fn: 0, tn: 5 }).precision, 0, 'false alarms on a clean photo score 0');
  assert.deepEqual(addCounts(c, c), { tp: 6, fp: 4, fn: 4, tn: 6 });
  assert.deepEqual(Array.from(maskFromRgb([0.3, 0.3, 0.3, 0, 0.6, 0.3])), [Math.fround(0.3), Math.fround(0.3)]);
});

test('dice-bce rewards finding a rare class that plain cross-entropy lets go', () => {
  tf.tidy(() => {
    const y = tf.tensor4d(Array.from({ length: 100 }, (_, i) => (i < 3 ? 1 : 0)), [1, 10, 10, 1]);
    const miss = tf.fill([1, 10, 10, 1], 0.03) as tf.Tensor4D;
    const find = tf.tensor4d(Array.from({ length: 100 }, (_, i) => (i < 3 ? 0.9 : 0.03)), [1, 10, 10, 1]);
    assert.ok(diceBceLoss(find, y).dataSync()[0]! < diceBceLoss(miss, y).dataSync()[0]! - 0.5);
  });
});

test('the damage detector outputs a probability map the size of the photo, at any size', () => {
  const model = ARCHITECTURES['damage-unet'].build({ filters: 4, depth: 2 });
  try {
    tf.tidy(() => {
      const out = model.predict(tf.randomUniform([1, 37, 29, 3])) as tf.Tensor;
      assert.deepEqual(out.shape, [1, 37, 29, 3]);
      const values = out.dataSync();
      assert.ok(values.every((v) => v > 0 && v < 1), 'sigmoid output');
      const mean = Array.from(values).reduce((a, b) => a + b, 0) / values.length;
      assert.ok(mean < 0.05, `an untrained detector starts near the prior (about 1% damaged), not at 0.5: mean ${mean.toFixed(3)}`);
    });
  } finally {
    model.dispose();
  }
});

const { dir: home, cleanup } = await tempDir('studio-detect-');
test.after(() => cleanup());
process.env.STUDIO_HOME = home;
process.env.STUDIO_BACKEND = TEST_BACKEND;
const data = join(home, 'photos');
await mkdir(data, { recursive: true });
await cleanFolder(data, 5, 64, 9);

test('a detector on a preset that draws no damage is refused with a sentence', async () => {
  const engine = new EngineHost(await inProcessLauncher());
  try {
    const ended = new Promise<unknown>((resolve) => {
      engine.subscribe(
        'train.run',
        { data, synth: 'gaussian:25', arch: 'damage-unet', epochs: 1, stepsPerEpoch: 1, batchSize: 2, patch: 32, samplerThread: 'main', out: 'nope' },
        { data: () => {}, end: (error) => resolve(error) },
      );
    });
    const error = (await ended) as Error | undefined;
    assert.match(String(error?.message), /learns where the synthesis draws damage.*"gaussian:25" draws none/);
  } finally {
    engine.dispose();
  }
});

test('a detector trains on old-photo-damage and is saved as a detect model the restore pickers leave out', async () => {
  const engine = new EngineHost(await inProcessLauncher());
  try {
    const done = await new Promise<TrainDoneEvent>((resolve, reject) => {
      let last: TrainDoneEvent | null = null;
      engine.subscribe(
        'train.run',
        {
          data,
          synth: 'old-photo-damage',
          arch: 'damage-unet',
          hyper: { filters: 4, depth: 2 },
          epochs: 1,
          stepsPerEpoch: 3,
          batchSize: 2,
          patch: 32,
          loss: 'dice-bce',
          lr: 0.01,
          validationFraction: 0.4,
          samples: 1,
          samplerThread: 'main',
          out: 'detector',
        },
        {
          data: (event) => {
            if (event.type === 'done') last = event;
          },
          end: (error) => (error ? reject(error) : last ? resolve(last) : reject(new Error('ended without done'))),
        },
      );
    });
    assert.equal(done.status, 'completed');
    const saved = await loadPackageDir(done.model!);
    try {
      assert.equal(saved.card.task, 'detect');
      assert.equal(saved.card.architecture.id, 'damage-unet');
      assert.equal(saved.card.training?.recipe?.loss, 'dice-bce');
    } finally {
      saved.model.dispose();
    }
    const listed = await engine.call('models.list', {});
    const row = listed.find((m) => m.id === 'detector');
    assert.equal(row?.task, 'detect', 'listed with its task, so Restore and Compare (task restore) leave it out');
  } finally {
    engine.dispose();
  }
});
