// Damage synthesis knows where it drew each defect (the mask a detector learns), and the sampler and the
// validation set can serve that mask as the target.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type RgbImage, createImage, fromUint8 } from '../../../src/main/engine/data/image';
import { openDataset } from '../../../src/main/engine/data/dataset';
import { StreamingPatchSampler } from '../../../src/main/engine/data/sampler';
import { type DegradationStep, synthesize } from '../../../src/main/engine/data/synth/recipe';
import { presetRecipe } from '../../../src/main/engine/data/synth/presets';
import { createValidationSet } from '../../../src/main/engine/data/validation';
import { cleanFolder, invert, smoothPixels, tempDir, writeRaw } from './fixtures';

const S = 160;

function grey(size = S): RgbImage {
  const img = createImage(size, size);
  img.data.fill(0.5);
  return img;
}

/** The sizes in pixels of the 8-connected regions where `mask` is above zero. */
function componentSizes(mask: Float32Array, w: number, h: number): number[] {
  const seen = new Uint8Array(w * h);
  const sizes: number[] = [];
  for (let start = 0; start < mask.length; start++) {
    if (seen[start] || !(mask[start]! > 0)) continue;
    const stack = [start];
    seen[start] = 1;
    let size = 0;
    while (stack.length) {
      const p = stack.pop()!;
      size++;
      const x = p % w;
      const y = (p - x) / w;
      for (let dy = -1; dy <= 1; dy++)
        for (let dx = -1; dx <= 1; dx++) {
          const nx = x + dx;
          const ny = y + dy;
          const q = ny * w + nx;
          if (nx < 0 || ny < 0 || nx >= w || ny >= h || seen[q] || !(mask[q]! > 0)) continue;
          seen[q] = 1;
          stack.push(q);
        }
    }
    sizes.push(size);
  }
  return sizes;
}

/** Pixels whose colour moved by more than `eps`, as a per-pixel boolean list. */
function changed(a: RgbImage, b: RgbImage, eps = 1e-4): boolean[] {
  const out: boolean[] = [];
  for (let p = 0; p < a.width * a.height; p++) {
    let d = 0;
    for (let c = 0; c < 3; c++) d = Math.max(d, Math.abs(a.data[p * 3 + c]! - b.data[p * 3 + c]!));
    out.push(d > eps);
  }
  return out;
}

const DEFECTS: DegradationStep[] = [
  { op: 'scratches', count: 8 },
  { op: 'dust', count: 80 },
  { op: 'specks', count: 200 },
  { op: 'flakes', count: 6 },
  { op: 'cracks', count: 6 },
  { op: 'hairs', count: 8 },
  { op: 'edgeWear', depth: 0.05 },
];

for (const step of DEFECTS) {
  test(`${step.op}: the damage mask marks exactly the pixels the defect painted`, async () => {
    const clean = grey();
    const { image, damage } = await synthesize(clean, step, 11);
    const moved = changed(clean, image);
    const marked = Array.from(damage, (v) => v > 0);
    const count = marked.filter(Boolean).length;
    assert.ok(count > 20, `${step.op} drew something: ${count} px`);
    assert.ok(count < S * S * 0.6, `${step.op} left most of the photo alone: ${count} px`);
    for (let p = 0; p < marked.length; p++) {
      if (moved[p] !== marked[p]) assert.fail(`${step.op}: pixel ${p} changed=${moved[p]} but marked=${marked[p]} (${damage[p]})`);
    }
    for (const v of damage) assert.ok(v >= 0 && v <= 1);
  });
}

test('the mask says how visibly a defect changed each pixel: a faint speck is marked faintly, not as damage', async () => {
  const clean = grey();
  const { image, damage } = await synthesize(clean, { op: 'specks', count: 400, opacity: [0.05, 1] }, 5);
  let faint = 0;
  for (let p = 0; p < damage.length; p++) {
    let change = 0;
    for (let c = 0; c < 3; c++) change = Math.max(change, Math.abs(image.data[p * 3 + c]! - 0.5));
    // A change of 0.12 or more (about 30 grey levels) is full damage; below it the mark is in proportion.
    assert.ok(Math.abs(damage[p]! - Math.min(1, change / 0.12)) < 1e-5, `pixel ${p}: change ${change}, mark ${damage[p]}`);
    if (damage[p]! > 0 && damage[p]! < 0.5) faint++;
  }
  assert.ok(faint > 10, `faint specks are marked faintly: ${faint} px`);
});

test('noise, blur, tone and JPEG change the photo but mark no damage', async () => {
  const clean = fromUint8(smoothPixels(S, S, 3), S, S);
  const recipe: DegradationStep = {
    op: 'chain',
    steps: [
      { op: 'monochrome' },
      { op: 'sepia', amount: 0.8 },
      { op: 'gaussianBlur', sigma: 1.5 },
      { op: 'gaussianNoise', sigma: 20 },
      { op: 'jpeg', quality: 30 },
    ],
  };
  const { image, damage } = await synthesize(clean, recipe, 4);
  assert.ok(changed(clean, image).filter(Boolean).length > S * S * 0.9);
  assert.equal(Math.max(...damage), 0);
});

test('monochrome makes the three channels equal', async () => {
  const clean = fromUint8(smoothPixels(64, 64, 5), 64, 64);
  const { image } = await synthesize(clean, { op: 'monochrome' }, 1);
  for (let i = 0; i < image.data.length; i += 3) {
    assert.ok(Math.abs(image.data[i]! - image.data[i + 1]!) < 1e-6 && Math.abs(image.data[i]! - image.data[i + 2]!) < 1e-6);
  }
});

test('flakes are wider and more ragged than dust: mostly white patches of tens to hundreds of pixels', async () => {
  const clean = grey();
  const sizes = async (step: DegradationStep): Promise<number[]> => {
    const found: number[] = [];
    for (let seed = 0; seed < 6; seed++) {
      const { damage } = await synthesize(clean, step, seed);
      found.push(...componentSizes(damage, S, S));
    }
    return found.sort((a, b) => a - b);
  };
  const median = (v: number[]): number => v[Math.floor(v.length / 2)]!;
  const flakes = await sizes({ op: 'flakes', count: 50 });
  const dust = await sizes({ op: 'dust', count: 50 });
  assert.ok(flakes.length >= 10 && dust.length >= 10, `${flakes.length} flakes, ${dust.length} dust spots`);
  assert.ok(median(flakes) > 3 * median(dust), `median flake ${median(flakes)} px, dust spot ${median(dust)} px`);
  assert.ok(flakes.at(-1)! >= 80, `the largest flake: ${flakes.at(-1)} px`);
  // Bright: paper shows where the emulsion went (the grey photo is 0.5).
  const { image, damage } = await synthesize(clean, { op: 'flakes', count: 50 }, 3);
  let bright = 0;
  let dark = 0;
  for (let p = 0; p < damage.length; p++) {
    if (damage[p]! < 1) continue;
    if (image.data[p * 3]! > 0.5) bright++;
    else dark++;
  }
  assert.ok(bright > 4 * dark, `${bright} bright and ${dark} dark flake pixels`);
});

test('old-photo-damage is the v1 recipe file (the bundled detector\'s) with flakes joined to the surface damage', async () => {
  const v1 = JSON.parse(await readFile(join(import.meta.dirname, '../../../docs/models/old-photo-damage-v1.recipe.json'), 'utf8'));
  const withoutFlakes = JSON.parse(JSON.stringify(presetRecipe('old-photo-damage'), (_key, value) =>
    value && Array.isArray(value.steps) ? { ...value, steps: value.steps.filter((s: { op: string }) => s.op !== 'flakes') } : value,
  ));
  assert.deepEqual(withoutFlakes, v1);
  assert.notDeepEqual(presetRecipe('old-photo-damage'), v1);
});

test('old-photo-damage varies: most photos get defects, some none, some are monochrome', async () => {
  const clean = fromUint8(smoothPixels(128, 128, 8), 128, 128);
  const recipe = presetRecipe('old-photo-damage');
  let undamaged = 0;
  let mono = 0;
  const kinds = new Set<string>();
  const runs = 42;
  for (let seed = 0; seed < runs; seed++) {
    const { damage, applied } = await synthesize(clean, recipe, seed);
    if (Math.max(...damage) === 0) undamaged++;
    if (applied.some((a) => a.op === 'monochrome')) mono++;
    for (const a of applied) kinds.add(a.op);
  }
  assert.ok(undamaged >= 2 && undamaged <= runs * 0.4, `some photos undamaged: ${undamaged} of ${runs}`);
  assert.ok(mono >= 4 && mono <= runs * 0.6, `some monochrome: ${mono} of ${runs}`);
  for (const op of ['scratches', 'dust', 'specks', 'cracks', 'hairs', 'edgeWear', 'jpeg']) assert.ok(kinds.has(op), `${op} drawn at least once`);
});

test('old-photo-damage keeps some prints sharp: the photo’s own blur, resolution loss and heavy noise are skipped two times in five', async () => {
  // A detector that only ever saw soft pictures under crisp scratches flagged the crisp edges of clean photos.
  const clean = fromUint8(smoothPixels(64, 64, 3), 64, 64);
  const recipe = presetRecipe('old-photo-damage');
  const softening = (a: { op: string; params: Record<string, number | string | boolean> }): boolean =>
    ['downscale', 'motionBlur', 'poissonNoise', 'speckleNoise', 'filmGrain'].includes(a.op) ||
    (a.op === 'gaussianBlur' && Number(a.params.sigma) > 0.8) ||
    (a.op === 'gaussianNoise' && Number(a.params.sigma) > 8);
  let sharp = 0;
  const runs = 120;
  for (let seed = 0; seed < runs; seed++) if (!(await synthesize(clean, recipe, seed)).applied.some(softening)) sharp++;
  assert.ok(sharp >= runs * 0.3 && sharp <= runs * 0.6, `sharp prints: ${sharp} of ${runs}`);
});

test('old-photo-restore is the recipe file the bundled old-photo model was trained with: damage, no colour changes, a tenth untouched', async () => {
  const file = JSON.parse(await readFile(join(import.meta.dirname, '../../../docs/models/old-photo-restore.recipe.json'), 'utf8'));
  const recipe = presetRecipe('old-photo-restore');
  assert.deepEqual(recipe, file);
  const clean = fromUint8(smoothPixels(96, 96, 4), 96, 96);
  const colourChanges = ['monochrome', 'fade', 'yellowing', 'sepia', 'contrast'];
  let untouched = 0;
  let damaged = 0;
  const runs = 60;
  for (let seed = 0; seed < runs; seed++) {
    const { image, damage, applied } = await synthesize(clean, recipe, seed);
    assert.deepEqual(applied.filter((a) => colourChanges.includes(a.op)), [], `seed ${seed}: no colour change`);
    if (applied.length === 0) {
      untouched++;
      assert.deepEqual(image.data, clean.data, `seed ${seed}: nothing applied, nothing changed`);
    }
    if (Math.max(...damage) > 0) damaged++;
  }
  assert.ok(untouched >= 1 && untouched <= runs * 0.3, `some photos untouched: ${untouched} of ${runs}`);
  assert.ok(damaged >= runs * 0.4, `many photos damaged: ${damaged} of ${runs}`);
});

const { dir, cleanup } = await tempDir('studio-damage-');
after(() => cleanup());
const cleanDir = join(dir, 'clean-only');
await cleanFolder(cleanDir, 4, 96, 21);
const greyDir = join(dir, 'grey');
for (let i = 0; i < 3; i++) await writeRaw(join(greyDir, `grey${i}.png`), Buffer.alloc(96 * 96 * 3, 128), 96, 96);

test('the sampler serves the damage map as the target, in all three channels, aligned with the input', async () => {
  const items = (await openDataset(greyDir)).items;
  const sampler = new StreamingPatchSampler({
    items,
    recipe: { op: 'dust', count: 400, opacity: [1, 1] },
    target: 'damage',
    patchSize: 32,
    batchSize: 8,
    augment: true,
    seed: 2,
  });
  try {
    const batch = await sampler.nextBatch();
    let marked = 0;
    for (let i = 0; i < batch.clean.length; i += 3) {
      const m = batch.clean[i]!;
      assert.ok(m === batch.clean[i + 1] && m === batch.clean[i + 2], 'the same map in every channel');
      assert.ok(m >= 0 && m <= 1);
      // On a flat grey photo the map is exactly how far the dust moved the input (full at 0.12): the same
      // pixel in both, through crops, flips and rotations.
      const change = Math.abs(batch.degraded[i]! - 128 / 255);
      assert.ok(Math.abs(m - Math.min(1, change / 0.12)) < 1e-4, `map ${m} where the input moved by ${change}`);
      if (m === 1) marked++;
    }
    assert.ok(marked > 0, 'some dust in the batch');
  } finally {
    await sampler.close();
  }
});

test('validation serves the same damage map every time', async () => {
  const items = (await openDataset(cleanDir)).items;
  const make = () => createValidationSet({ items, recipe: presetRecipe('old-photo-damage'), target: 'damage', crop: 64, seed: 3 });
  const first: number[] = [];
  for await (const s of make().samples()) first.push(...s.clean.slice(0, 300));
  const second: number[] = [];
  for await (const s of make().samples()) second.push(...s.clean.slice(0, 300));
  assert.deepEqual(first, second);
});

test('damage targets need clean photos and a recipe: a paired folder is refused with a sentence', async () => {
  const paired = join(dir, 'paired');
  const px = smoothPixels(40, 40, 1);
  await writeRaw(join(paired, 'clean', 'a.png'), px, 40, 40);
  await writeRaw(join(paired, 'degraded', 'a.png'), invert(px), 40, 40);
  const items = (await openDataset(paired)).items;
  assert.throws(
    () => new StreamingPatchSampler({ items, recipe: presetRecipe('old-photo-damage'), target: 'damage', patchSize: 16 }),
    /Damage detection .* needs a folder of clean photos/,
  );
  assert.throws(() => createValidationSet({ items, recipe: presetRecipe('old-photo-damage'), target: 'damage' }), /needs a folder of clean photos/);
});
