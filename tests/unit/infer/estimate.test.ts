// The time estimate before a batch: tile overlaps counted from the restore's own plan, the timing tile sized
// by the model's cost, an upscaler's heavier output counted, and the estimate close to the real time for a
// light 1x model and a heavier 4x one.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { calibrationSide, estimateBatchSeconds, overlapFactor, WRITE_SECONDS_PER_OUTPUT_PIXEL } from '../../../src/main/engine/infer/estimate';
import { restoreBatch, type BatchStart } from '../../../src/main/engine/infer/batch';
import { analyseLayers, wrapLayersModel } from '../../../src/main/engine/infer/model';
import type { DamageFiller } from '../../../src/main/engine/infer/learned-fill';
import type { RepairStage } from '../../../src/main/engine/infer/repair';
import { ARCHITECTURES } from '../../../src/main/engine/models/index';
import { mulberry32, residualModel, tempDir, writePhoto } from '../restore/helpers';
import { useTestBackend } from '../../helpers/native';

let root: { dir: string; cleanup: () => Promise<void> };
before(async () => {
  await useTestBackend();
  root = await tempDir('studio-estimate-');
});
after(async () => root.cleanup());

test('overlap factor: 1 for one tile, the overlaps counted when tiled', () => {
  assert.equal(overlapFactor(500, 400, { tile: 512, overlap: 16 }), 1);
  const tiled = overlapFactor(576, 720, { tile: 128, overlap: 16 });
  assert.ok(tiled > 1.2 && tiled < 2.5, `576x720 in 128-px tiles feeds ${tiled}x the pixels`);
  // Padding to the model's multiple counts too.
  assert.ok(overlapFactor(99, 99, { tile: 512, overlap: 0 }, 8) > 1);
});

test('the timing tile is small for a heavy model, larger for a light one, aligned to the multiple', () => {
  assert.equal(calibrationSide({ macsPerPixel: null, multiple: 1, fixedSize: null }), 64);
  assert.equal(calibrationSide({ macsPerPixel: 16_000_000, multiple: 1, fixedSize: null }), 16);
  assert.equal(calibrationSide({ macsPerPixel: 20_000, multiple: 1, fixedSize: null }), 122);
  assert.equal(calibrationSide({ macsPerPixel: 20_000, multiple: 8, fixedSize: null }), 120);
});

test('an upscaler costs its output too: the same model time, scale 4, writes 16x the pixels', () => {
  const files = [{ width: 576, height: 720 }];
  const plan = { tile: 1024, overlap: 16 };
  const one = estimateBatchSeconds(files, plan, { multiple: 1, scale: 1 }, 1e-6);
  const four = estimateBatchSeconds(files, plan, { multiple: 1, scale: 4 }, 1e-6);
  const px = 576 * 720;
  assert.ok(Math.abs(one - px * (1e-6 + WRITE_SECONDS_PER_OUTPUT_PIXEL)) < 1e-9);
  assert.ok(Math.abs(four - px * (1e-6 + 16 * WRITE_SECONDS_PER_OUTPUT_PIXEL)) < 1e-9);
});

/** A 4x upscaler whose convolutions run at output size: far heavier per input pixel than the 1x model. */
function heavyUpscaler(): tfl.LayersModel {
  const x = tfl.input({ shape: [null, null, 3] });
  let h = tfl.layers.upSampling2d({ size: [4, 4] }).apply(x) as tfl.SymbolicTensor;
  h = tfl.layers.conv2d({ filters: 16, kernelSize: 3, padding: 'same', activation: 'relu' }).apply(h) as tfl.SymbolicTensor;
  h = tfl.layers.conv2d({ filters: 3, kernelSize: 3, padding: 'same' }).apply(h) as tfl.SymbolicTensor;
  const model = tfl.model({ inputs: x, outputs: h });
  const rand = mulberry32(5);
  model.setWeights(model.getWeights().map((w) => tf.tensor(Float32Array.from({ length: w.size }, () => (rand() - 0.5) * 0.2), w.shape)));
  return model;
}

test('before the first file, the estimate is near the real time, and a heavy 4x model is estimated far above a light 1x one', async () => {
  const input = join(root.dir, 'in');
  await mkdir(input);
  await writePhoto(join(input, 'a.png'), 288, 360, { seed: 1 });
  await writePhoto(join(input, 'b.png'), 360, 288, { seed: 2 });
  const light = wrapLayersModel(residualModel(), { id: 'light', name: 'light', fingerprint: 'light' });
  const heavy = wrapLayersModel(heavyUpscaler(), { id: 'heavy', name: 'heavy', fingerprint: 'heavy' });
  try {
    const measured: Record<string, { estimate: number; actual: number }> = {};
    for (const model of [light, heavy]) {
      let start: BatchStart | null = null;
      let firstEta: number | null = null;
      const summary = await restoreBatch(
        { input, out: join(root.dir, `out-${model.id}`), model },
        {
          onStart: (s) => (start = s),
          onProgress: (p) => {
            if (firstEta === null) firstEta = p.etaSeconds;
          },
        },
      );
      assert.equal(summary.done, 2);
      const s = start as BatchStart | null;
      assert.ok(s && s.estimatedSeconds !== null, 'an estimate before the first file');
      assert.equal(s.scale, model.scale ?? 1);
      assert.ok(firstEta !== null, 'the first progress event already has a time left (the estimate)');
      measured[model.id] = { estimate: s.estimatedSeconds, actual: summary.seconds };
    }
    console.log(`estimates: ${JSON.stringify(measured)}`);
    const { light: l, heavy: h } = measured as Record<'light' | 'heavy', { estimate: number; actual: number }>;
    assert.ok(h.estimate > 5 * l.estimate, `heavy ${h.estimate.toFixed(2)} s vs light ${l.estimate.toFixed(2)} s`);
    // A shared, busy machine: within a factor of 4 of the real time is what is asked here.
    assert.ok(h.estimate > h.actual / 4 && h.estimate < h.actual * 4, `heavy: estimated ${h.estimate.toFixed(2)} s, took ${h.actual.toFixed(2)} s`);
  } finally {
    light.dispose();
    heavy.dispose();
  }
});

test('repair\'s detector and filler are counted in the estimate: a filler that runs on the holes costs time before the first file', async () => {
  const input = join(root.dir, 'in-repair');
  await mkdir(input);
  await writePhoto(join(input, 'a.png'), 256, 192, { seed: 3 });
  const model = wrapLayersModel(residualModel(), { id: 'light', name: 'light', fingerprint: 'light' });
  const detector = wrapLayersModel(residualModel(9), { id: 'detector', name: 'detector', fingerprint: 'detector', detector: true });
  // A filler as loadDamageFiller makes one (4 channels in: photo + mask), with the bundled filler's architecture.
  const fillNet = ARCHITECTURES['fill-unet'].build({ filters: 16, depth: 3 });
  const analysis = analyseLayers(fillNet);
  const filler: DamageFiller = {
    id: 'filler',
    name: 'filler',
    fingerprint: 'filler',
    run: (x) => tf.tidy(() => fillNet.predict(x) as tf.Tensor4D),
    scale: 1,
    macsPerPixel: null,
    multiple: analysis.multiple,
    receptiveRadius: analysis.receptiveRadius,
    bytesPerPixel: analysis.bytesPerPixel,
    fixedSize: null,
    dispose: () => fillNet.dispose(),
    seesOriginal: false,
  };
  try {
    const estimate = async (repair: RepairStage): Promise<number> => {
      let start: BatchStart | null = null;
      await restoreBatch({ input, out: join(root.dir, `out-repair-${repair.filler ? 'fill' : 'plain'}`), model, repair }, { onStart: (s) => (start = s) });
      const seconds = (start as BatchStart | null)?.estimatedSeconds;
      assert.ok(typeof seconds === 'number', 'an estimate before the first file');
      return seconds;
    };
    const plain = await estimate({ detector, strength: 0.5 });
    const filled = await estimate({ detector, strength: 0.5, filler });
    assert.ok(filled > plain * 1.5, `with the filler ${filled.toFixed(3)} s, without ${plain.toFixed(3)} s`);
  } finally {
    model.dispose();
    detector.dispose();
    filler.dispose();
  }
});
