// The learned damage filler end to end: the fill-unet architecture (photo + mask in, only masked pixels
// changed), the training pairs the synthesis makes for it, a short training run through the engine contract
// that saves a 'fill' model, and the repair stage refining its interpolated holes with that model, tile by tile.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { EngineHost, inProcessLauncher } from '../../../src/main/services/engine-host';
import { ARCHITECTURES } from '../../../src/main/engine/models/index';
import { trainingPair, inputChannels } from '../../../src/main/engine/data/target';
import { decoyMask } from '../../../src/main/engine/data/synth/damage';
import { Rng } from '../../../src/main/engine/data/rng';
import { widenInputChannels } from '../../../src/main/engine/methods/init-from';
import { fillDamage } from '../../../src/main/engine/data/fill';
import { createPatchSampler, createValidationSet, openDataset, resolvePreset, synthesize } from '../../../src/main/engine/data/index';
import { loadDamageFiller, loadRepairFiller, refineFill } from '../../../src/main/engine/infer/learned-fill';
import { repairDamage } from '../../../src/main/engine/infer/repair';
import { loadDamageDetector, loadRestoreModel } from '../../../src/main/engine/infer/model';
import type { TrainDoneEvent } from '#shared/training';
import { cleanFolder, tempDir } from '../methods/fixtures';
import { TEST_BACKEND, useTestBackend } from '../../helpers/native';

await useTestBackend();

const { dir: home, cleanup } = await tempDir('studio-fill-');
test.after(() => cleanup());
process.env.STUDIO_HOME = home;
process.env.STUDIO_BACKEND = TEST_BACKEND;
const data = join(home, 'photos');
await mkdir(data, { recursive: true });
await cleanFolder(data, 5, 64, 11);

/** A smooth test photo with some structure (so a fill has something to get wrong). */
function photo(width: number, height: number): { width: number; height: number; data: Float32Array } {
  const data = new Float32Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      data[i] = 0.5 + 0.4 * Math.sin(x / 5);
      data[i + 1] = 0.5 + 0.4 * Math.cos(y / 7);
      data[i + 2] = ((x + y) % 16) / 16;
    }
  }
  return { width, height, data };
}

test('the filler changes masked pixels only: a pixel outside the mask comes out exactly as it went in', () => {
  const model = ARCHITECTURES['fill-unet'].build({ filters: 4, depth: 2 });
  try {
    tf.tidy(() => {
      // Random weights, so the correction is far from zero wherever it is allowed.
      for (const w of model.weights) w.write(tf.randomNormal(w.shape as number[], 0, 0.3));
      const [h, w] = [21, 30];
      const rgb = tf.randomUniform([1, h, w, 3]);
      const mask = tf.tensor4d(Array.from({ length: h * w }, (_, p) => (p % w > 10 && p % w < 14 ? 1 : 0)), [1, h, w, 1]);
      const out = model.predict(tf.concat([rgb, mask], 3)) as tf.Tensor;
      assert.deepEqual(out.shape, [1, h, w, 3], 'RGB out, the size of the photo');
      const o = out.dataSync();
      const x = rgb.dataSync();
      let changedInside = 0;
      for (let p = 0; p < h * w; p++) {
        const inside = p % w > 10 && p % w < 14;
        for (let c = 0; c < 3; c++) {
          if (!inside) assert.equal(o[p * 3 + c], x[p * 3 + c], `pixel ${p} outside the mask was changed`);
          else if (Math.abs(o[p * 3 + c]! - x[p * 3 + c]!) > 1e-4) changedInside++;
        }
      }
      assert.ok(changedInside > 0, 'the masked pixels are the filler\'s to change');
    });
  } finally {
    model.dispose();
  }
});

test('a filler learns from the photo with its damage interpolated plus the mask, toward the clean photo under the mask', async () => {
  const clean = photo(64, 48);
  const recipe = await resolvePreset('old-photo-fill');
  // Find a seed whose synthesis drew damage (most do).
  let synth = await synthesize(clean, recipe, 1);
  for (let seed = 2; !synth.damage.some((v) => v >= 0.5); seed++) synth = await synthesize(clean, recipe, seed);
  assert.equal(inputChannels('fill'), 4);
  const pair = trainingPair('fill', clean.data, synth);
  const filled = fillDamage(synth.image, synth.damage);
  assert.equal(pair.input.length, 64 * 48 * 4);
  assert.equal(pair.target.length, 64 * 48 * 3);
  let masked = 0;
  for (let p = 0; p < 64 * 48; p++) {
    const m = pair.input[p * 4 + 3]!;
    assert.equal(m, filled.replaced[p], 'the mask channel is the mask the repair stage fills');
    for (let c = 0; c < 3; c++) {
      assert.equal(pair.input[p * 4 + c], filled.image.data[p * 3 + c], 'the photo channels are the interpolated photo');
      if (m === 0) assert.equal(pair.target[p * 3 + c], pair.input[p * 4 + c], 'outside the mask the target is the input: nothing to learn there');
      if (m === 1) assert.ok(Math.abs(pair.target[p * 3 + c]! - clean.data[p * 3 + c]!) < 1e-6, 'under the mask the target is the clean photo');
    }
    if (m === 1) masked++;
  }
  assert.ok(masked > 0);
  // Restorers and detectors are unchanged: the degraded photo in.
  assert.equal(trainingPair('clean', clean.data, synth).input, synth.image.data);
  assert.equal(trainingPair('damage', clean.data, synth).input, synth.image.data);
});

test('the sampler and the validation set give a filler 4-channel inputs and RGB targets', async () => {
  const { items } = await openDataset(data);
  const recipe = await resolvePreset('old-photo-fill');
  const sampler = await createPatchSampler({ items, recipe, target: 'fill', patchSize: 32, batchSize: 3, seed: 4, thread: 'main' });
  try {
    const batch = await sampler.nextBatch();
    assert.equal(batch.inputChannels, 4);
    assert.equal(batch.degraded.length, 3 * 32 * 32 * 4);
    assert.equal(batch.clean.length, 3 * 32 * 32 * 3);
    // The mask channel is 0-1, and the photo channels match the target wherever the mask is 0.
    for (let p = 0; p < 3 * 32 * 32; p++) {
      const m = batch.degraded[p * 4 + 3]!;
      assert.ok(m >= 0 && m <= 1);
      if (m === 0) for (let c = 0; c < 3; c++) assert.equal(batch.degraded[p * 4 + c], batch.clean[p * 3 + c]);
    }
  } finally {
    await sampler.close();
  }
  const validation = createValidationSet({ items, recipe, target: 'fill', crop: 32, seed: 4 });
  for await (const batch of validation.batches(2)) {
    assert.equal(batch.inputChannels, 4);
    assert.equal(batch.degraded.length, batch.batch * 32 * 32 * 4);
  }
  await assert.rejects(
    createPatchSampler({ items: items.map((i) => ({ ...i, degraded: i.clean })), recipe, target: 'fill', patchSize: 32, batchSize: 2, thread: 'main' }),
    /Damage filling learns to fill what the synthesis drew: it needs a folder of clean photos and a recipe/,
  );
});

/** Trains a tiny filler through the engine contract; resolves with the saved package's folder. */
async function trainFiller(engine: EngineHost, out: string, extra: Record<string, unknown> = {}): Promise<TrainDoneEvent> {
  return new Promise<TrainDoneEvent>((resolve, reject) => {
    let last: TrainDoneEvent | null = null;
    engine.subscribe(
      'train.run',
      {
        data,
        synth: 'old-photo-fill',
        arch: 'fill-unet',
        hyper: { filters: 4, depth: 2 },
        epochs: 2,
        stepsPerEpoch: 3,
        batchSize: 2,
        patch: 32,
        loss: 'l1',
        lr: 0.003,
        validationFraction: 0.4,
        samples: 1,
        samplerThread: 'main',
        out,
        ...extra,
      },
      {
        data: (event) => {
          if (event.type === 'done') last = event;
        },
        end: (error) => (error ? reject(error) : last ? resolve(last) : reject(new Error('ended without done'))),
      },
    );
  });
}

test('a filler trains on old-photo-fill, is saved as a fill model, and refines a repair tile by tile without touching clean pixels', async () => {
  const engine = new EngineHost(await inProcessLauncher());
  let filler = null;
  try {
    const refused = await new Promise<unknown>((resolve) => {
      engine.subscribe(
        'train.run',
        { data, synth: 'gaussian:25', arch: 'fill-unet', epochs: 1, stepsPerEpoch: 1, batchSize: 2, patch: 32, samplerThread: 'main', out: 'nope' },
        { data: () => {}, end: (error) => resolve(error) },
      );
    });
    assert.match(String((refused as Error | undefined)?.message), /learns to fill the damage the synthesis draws: .*such as old-photo-fill \("gaussian:25" draws none\)/);

    const done = await trainFiller(engine, 'filler');
    assert.equal(done.status, 'completed');
    const listed = await engine.call('models.list', {});
    assert.equal(listed.find((m) => m.id === 'filler')?.task, 'fill', 'listed with its task, so the restore pickers leave it out');

    filler = await loadDamageFiller(done.model!);
    assert.equal(filler.id, 'filler');
    const before = tf.memory().numTensors;
    // A 200x150 photo with two short scratches, in tiles of 64: the tiles without damage are not run, and
    // every pixel outside the mask is the interpolated photo's, bit for bit.
    const image = photo(200, 150);
    const damage = new Float32Array(200 * 150);
    for (let x = 20; x < 50; x++) damage[30 * 200 + x] = 1;
    for (let y = 100; y < 140; y++) damage[y * 200 + 170] = 1;
    const filled = fillDamage(image, damage);
    let tilesRun = 0;
    const counting = { ...filler, run: (x: tf.Tensor4D) => (tilesRun++, filler!.run(x)) };
    const refined = await refineFill(counting, image, filled, { tile: 64 });
    const whole = await refineFill(filler, image, filled, { tile: 512 });
    assert.ok(tilesRun >= 2 && tilesRun < 12, `only tiles holding damage are run (${tilesRun})`);
    let changed = 0;
    for (let p = 0; p < 200 * 150; p++) {
      for (let c = 0; c < 3; c++) {
        const i = p * 3 + c;
        if (filled.replaced[p] === 0) assert.equal(refined.data[i], filled.image.data[i], `pixel ${p} outside the mask changed`);
        else {
          if (refined.data[i] !== filled.image.data[i]) changed++;
          assert.ok(Math.abs(refined.data[i]! - whole.data[i]!) < 1e-3, `tiled and whole-photo fills agree at pixel ${p}`);
        }
      }
    }
    assert.ok(changed > 0, 'the filler changed the holes');
    assert.equal(tf.memory().numTensors, before, 'refining leaves no tensors behind');
  } finally {
    filler?.dispose();
    engine.dispose();
  }
});

test('repair uses the installed filler by default, none on request, and refuses a model that is not a filler', async () => {
  const engine = new EngineHost(await inProcessLauncher());
  const lookup = { modelsDir: join(home, 'models'), bundled: join(home, 'no-bundled') };
  try {
    assert.equal(await loadRepairFiller(undefined, lookup), null, 'no "fill" model installed: the interpolation alone');
    assert.equal(await loadRepairFiller('none', lookup), null);
    await trainFiller(engine, 'fill');
    const filler = await loadRepairFiller(undefined, lookup);
    assert.ok(filler, 'the installed "fill" model is used without being named');
    // A damage detector is not a filler; the message says how to get one.
    const detectorDone = await new Promise<TrainDoneEvent>((resolve, reject) => {
      let last: TrainDoneEvent | null = null;
      engine.subscribe(
        'train.run',
        { data, synth: 'old-photo-damage', arch: 'damage-unet', hyper: { filters: 4, depth: 1 }, epochs: 1, stepsPerEpoch: 1, batchSize: 2, patch: 32, validationFraction: 0.4, samplerThread: 'main', out: 'detector' },
        { data: (e) => void (e.type === 'done' && (last = e)), end: (error) => (error ? reject(error) : resolve(last!)) },
      );
    });
    await assert.rejects(loadRestoreModel('fill', lookup), /"[^"]+" is a damage filler, not a restoration model\. The repair stage uses it .*--fill-model fill/);
    await assert.rejects(loadDamageFiller('detector', lookup), /"detector" .* is not a damage filler: its card says its task is "detect"\. Train one with the fill-unet architecture/);
    // Repair with and without the filler: the same pixels replaced, the same pixels kept.
    const detector = await loadDamageDetector(detectorDone.model!);
    try {
      const image = photo(96, 80);
      const pixels = new Uint16Array(image.data.length);
      for (let y = 0; y < 80; y++) for (let x = 0; x < 96; x++) for (let c = 0; c < 3; c++) pixels[(y * 96 + x) * 3 + c] = y === 40 && x > 10 && x < 60 ? 65535 : Math.round(image.data[(y * 96 + x) * 3 + c]! * 65535);
      const source = { width: 96, height: 80, channels: 3, pixels, maxValue: 65535 };
      const plain = await repairDamage(detector, source, { strength: 1 });
      const learned = await repairDamage(detector, source, { strength: 1, filler });
      assert.deepEqual(Array.from(learned.replaced), Array.from(plain.replaced));
      for (let p = 0; p < 96 * 80; p++) {
        if (plain.replaced[p] === 0) for (let c = 0; c < 3; c++) assert.equal(learned.source.pixels[p * 3 + c], plain.source.pixels[p * 3 + c]);
      }
    } finally {
      detector.dispose();
      filler!.dispose();
    }
  } finally {
    engine.dispose();
  }
});

test('a checking filler\'s training pair: decoys join the mask, the original photo rides along, and the target keeps the original under decoys', async () => {
  const clean = photo(192, 128);
  const recipe = await resolvePreset('old-photo-fill');
  let synth = await synthesize(clean, recipe, 1);
  for (let seed = 2; !synth.damage.some((v) => v >= 0.5); seed++) synth = await synthesize(clean, recipe, seed);
  assert.equal(inputChannels('fill-check'), 7);
  assert.throws(() => trainingPair('fill-check', clean.data, synth), /needs an Rng for its decoys/);
  const pair = trainingPair('fill-check', clean.data, synth, new Rng(5));
  const again = trainingPair('fill-check', clean.data, synth, new Rng(5));
  assert.deepEqual(Array.from(again.input), Array.from(pair.input), 'the same decoys from the same seed');
  const real = fillDamage(synth.image, synth.damage).replaced;
  const counts = { decoy: 0, real: 0 };
  for (let p = 0; p < 192 * 128; p++) {
    const flagged = pair.input[p * 7 + 3]!;
    assert.ok(flagged >= real[p]!, 'the mask holds all of the real damage');
    for (let c = 0; c < 3; c++) {
      const original = synth.image.data[p * 3 + c]!;
      assert.equal(pair.input[p * 7 + 4 + c], original, 'channels 4-6 are the photo as it came in');
      if (flagged === 0) assert.equal(pair.input[p * 7 + c], original, 'outside the mask the photo is not interpolated');
      if (synth.damage[p] === 0 && real[p] === 0) assert.equal(pair.target[p * 3 + c], original, 'where nothing is damaged the target is the original, decoy or not');
      if (real[p] === 1) assert.ok(Math.abs(pair.target[p * 3 + c]! - clean.data[p * 3 + c]!) < 1e-6, 'under the damage the target is the clean photo');
      if (flagged > 0 && synth.damage[p]! > 0) assert.ok(Math.abs(pair.target[p * 3 + c]! - clean.data[p * 3 + c]!) < 1e-6, 'under the mask, even faint damage is to be cleaned');
    }
    if (flagged === 1 && real[p] === 0) counts.decoy++;
    if (real[p] === 1) counts.real++;
  }
  assert.ok(counts.decoy > 20 && counts.real > 0, `decoys and real damage are both in the mask (${counts.decoy} / ${counts.real} pixels)`);
});

test('decoys are drawn where a detector\'s false alarms are: many of them along the photo\'s strongest edges and thin lines', () => {
  // A flat photo with one vertical edge: half the decoys seek edges, so far more of the mask lies on it than its share of the area.
  const width = 128;
  const height = 128;
  const data = new Float32Array(width * height * 3);
  for (let p = 0; p < width * height; p++) data.fill(p % width < 64 ? 0.2 : 0.8, p * 3, p * 3 + 3);
  const mask = decoyMask({ width, height, data }, new Rng(3), 400);
  let near = 0;
  let total = 0;
  for (let p = 0; p < width * height; p++) {
    total += mask[p]!;
    if (Math.abs((p % width) - 63.5) < 8) near += mask[p]!;
  }
  assert.ok(total > 0, 'decoys were drawn');
  assert.ok(near / total > 0.3, `a band of 1/8 of the width around the edge holds ${(100 * near / total).toFixed(0)}% of the decoys`);

  // A thin dark horizontal line (a rope, a seam) on a flat photo: decoys run along it.
  for (let p = 0; p < width * height; p++) data.fill(Math.floor(p / width) === 64 ? 0.1 : 0.7, p * 3, p * 3 + 3);
  const onLine = decoyMask({ width, height, data }, new Rng(4), 400);
  let lineNear = 0;
  let lineTotal = 0;
  for (let p = 0; p < width * height; p++) {
    lineTotal += onLine[p]!;
    if (Math.abs(Math.floor(p / width) - 64) <= 4) lineNear += onLine[p]!;
  }
  assert.ok(lineNear / lineTotal > 0.3, `9 rows around the line hold ${(100 * lineNear / lineTotal).toFixed(0)}% of the decoys`);
});

test('a filler that sees the original starts from a filler that does not (its new channels at zero) and trains, loads and repairs', async () => {
  // The widened model computes exactly what the model it starts from computed, whatever the new channels hold.
  const narrow = ARCHITECTURES['fill-unet'].build({ filters: 4, depth: 2 });
  for (const w of narrow.weights) w.write(tf.randomNormal(w.shape as number[], 0, 0.3));
  const reference = ARCHITECTURES['fill-unet'].build({ filters: 4, depth: 2 });
  reference.setWeights(narrow.getWeights());
  const before = tf.memory().numTensors;
  const wide = widenInputChannels(narrow, ARCHITECTURES['fill-unet'].build({ filters: 4, depth: 2, seesOriginal: true }), 'the test filler');
  try {
    tf.tidy(() => {
      const four = tf.concat([tf.randomUniform([1, 16, 24, 3]), tf.round(tf.randomUniform([1, 16, 24, 1]))], 3);
      const seven = tf.concat([four, tf.randomUniform([1, 16, 24, 3])], 3);
      const a = (reference.predict(four) as tf.Tensor).dataSync();
      const b = (wide.predict(seven) as tf.Tensor).dataSync();
      for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i]! - b[i]!) < 1e-5, `output ${i}: ${a[i]} vs ${b[i]}`);
    });
    assert.ok(tf.memory().numTensors <= before, 'widening leaves no tensors behind (the narrow model is disposed)');
  } finally {
    wide.dispose();
    reference.dispose();
  }
  assert.throws(
    () => widenInputChannels(ARCHITECTURES['fill-unet'].build({ filters: 8, depth: 2 }), ARCHITECTURES['fill-unet'].build({ filters: 4, depth: 2, seesOriginal: true }), 'the wide filler'),
    /the wide filler's layer "enc1_conv1" holds \[3, 3, 4, 8\] where this run's model needs \[3, 3, 7, 4\]/,
  );

  // Through the engine contract: a 4-channel filler, then a checking filler started from it.
  const engine = new EngineHost(await inProcessLauncher());
  let filler = null;
  try {
    const first = await trainFiller(engine, 'plain-filler');
    const done = await trainFiller(engine, 'checking-filler', { initFrom: first.model, hyper: { seesOriginal: true }, epochs: 1 });
    assert.equal(done.status, 'completed');
    filler = await loadDamageFiller(done.model!);
    assert.equal(filler.seesOriginal, true);
    const image = photo(96, 80);
    const damage = new Float32Array(96 * 80);
    for (let x = 10; x < 60; x++) damage[40 * 96 + x] = 1;
    const filled = fillDamage(image, damage);
    const count = tf.memory().numTensors;
    const refined = await refineFill(filler, image, filled);
    assert.equal(tf.memory().numTensors, count, 'refining leaves no tensors behind');
    let changed = 0;
    for (let p = 0; p < 96 * 80; p++) {
      for (let c = 0; c < 3; c++) {
        const i = p * 3 + c;
        if (filled.replaced[p] === 0) assert.equal(refined.data[i], image.data[i], `pixel ${p} outside the mask changed`);
        else if (refined.data[i] !== filled.image.data[i]) changed++;
      }
    }
    assert.ok(changed > 0, 'the checking filler changed the holes');
  } finally {
    filler?.dispose();
    engine.dispose();
  }
});
