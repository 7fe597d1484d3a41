import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type DatasetItem, openDataset } from '../../../src/main/engine/data/dataset';
import { dihedralMap } from '../../../src/main/engine/data/patches';
import { type SamplerWarning, StreamingPatchSampler } from '../../../src/main/engine/data/sampler';
import { presetRecipe } from '../../../src/main/engine/data/synth/presets';
import type { PatchBatch } from '../../../src/main/engine/data/types';
import { createValidationSet } from '../../../src/main/engine/data/validation';
import { createPatchSampler } from '../../../src/main/engine/data/worker-sampler';
import { invert, randomPixels, tempDir, writeRaw } from './fixtures';

const P = 16;
let dir = '';
let cleanup: () => Promise<void> = async () => {};
let items: DatasetItem[] = [];
const sources = new Map<string, { w: number; h: number; px: Buffer }>();

before(async () => {
  ({ dir, cleanup } = await tempDir());
  const sizes = [
    [40, 32],
    [36, 36],
    [48, 24],
    [32, 40],
    [44, 30],
  ];
  for (const [i, [w, h]] of sizes.entries()) {
    const px = randomPixels(w!, h!, 100 + i);
    const name = `p${i}.png`;
    sources.set(name, { w: w!, h: h!, px });
    await writeRaw(join(dir, 'clean', name), px, w!, h!);
    await writeRaw(join(dir, 'degraded', name), invert(px), w!, h!);
  }
  items = (await openDataset(dir)).items;
});

after(() => cleanup());

/** Finds (image, transform) such that the clean patch is that transform of a crop of the image. */
function locate(patch: Float32Array): { name: string; t: number } | null {
  for (const [name, { w, h, px }] of sources) {
    for (let t = 0; t < 8; t++) {
      const map = dihedralMap(P, t);
      for (let y0 = 0; y0 + P <= h; y0++) {
        for (let x0 = 0; x0 + P <= w; x0++) {
          let ok = true;
          for (let p = 0; p < P * P && ok; p++) {
            const m = map[p]!;
            const s = ((y0 + Math.floor(m / P)) * w + x0 + (m % P)) * 3;
            for (let c = 0; c < 3; c++) {
              if (Math.round(patch[p * 3 + c]! * 255) !== px[s + c]) {
                ok = false;
                break;
              }
            }
          }
          if (ok) return { name, t };
        }
      }
    }
  }
  return null;
}

async function take(sampler: { nextBatch(): Promise<PatchBatch> }, n: number): Promise<PatchBatch[]> {
  const out: PatchBatch[] = [];
  for (let i = 0; i < n; i++) out.push(await sampler.nextBatch());
  return out;
}

test('patches come from the right pairs, with the same flip/rotation on both sides', async () => {
  const sampler = new StreamingPatchSampler({ items, patchSize: P, batchSize: 8, seed: 1, patchesPerImage: 4 });
  try {
    const batches = await take(sampler, 10);
    const transforms = new Set<number>();
    for (const b of batches) {
      assert.equal(b.batch, 8);
      assert.equal(b.height, P);
      assert.equal(b.width, P);
      assert.equal(b.channels, 3);
      assert.equal(b.clean.length, 8 * P * P * 3);
      // degraded = 1 − clean, pixel by pixel, after any flip/rotation.
      for (let i = 0; i < b.clean.length; i++) assert.ok(Math.abs(b.clean[i]! + b.degraded[i]! - 1) < 1e-6, `pixel ${i}`);
      const names = new Set<string>();
      for (let k = 0; k < b.batch; k++) {
        const found = locate(b.clean.subarray(k * P * P * 3, (k + 1) * P * P * 3));
        assert.ok(found, 'each patch is a crop of a training image');
        transforms.add(found.t);
        names.add(found.name);
      }
      assert.ok(names.size > 1, 'a batch mixes images');
    }
    assert.ok(transforms.size >= 6, `flips and rotations are used (${[...transforms]})`);
  } finally {
    await sampler.close();
  }
});

function sameBatches(a: PatchBatch[], b: PatchBatch[]): boolean {
  return a.every((x, i) => x.clean.every((v, j) => v === b[i]!.clean[j]) && x.degraded.every((v, j) => v === b[i]!.degraded[j]));
}

test('the stream is deterministic per seed, on this thread or a worker thread', async () => {
  const opts = { items, patchSize: P, batchSize: 4, patchesPerImage: 3 };
  const a = new StreamingPatchSampler({ ...opts, seed: 9 });
  const b = new StreamingPatchSampler({ ...opts, seed: 9, prefetchBatches: 1, decodeAhead: 0 });
  const c = new StreamingPatchSampler({ ...opts, seed: 10 });
  const w = await createPatchSampler({ ...opts, seed: 9, thread: 'worker' });
  try {
    assert.equal(w.mode, 'worker');
    const [ba, bb, bc, bw] = await Promise.all([take(a, 12), take(b, 12), take(c, 12), take(w, 12)]);
    assert.ok(sameBatches(ba, bb), 'same seed, different prefetching → same batches');
    assert.ok(sameBatches(ba, bw), 'worker thread gives the same batches');
    assert.ok(!sameBatches(ba, bc), 'another seed gives other batches');
    assert.ok(bw[11]!.epoch! >= 1);
  } finally {
    await Promise.all([a.close(), b.close(), c.close(), w.close()]);
  }
});

test('clean-only datasets get degradations synthesised per image, reproducibly', async () => {
  const cleanOnly = items.map((i) => ({ id: i.id, clean: i.clean }));
  assert.throws(() => new StreamingPatchSampler({ items: cleanOnly, patchSize: P }), { code: 'BAD_INPUT' });
  const identity = new StreamingPatchSampler({ items: cleanOnly, patchSize: P, batchSize: 4, recipe: presetRecipe('none') });
  const [id] = await take(identity, 1);
  assert.deepEqual(id!.degraded, id!.clean);
  await identity.close();

  const opts = { items: cleanOnly, patchSize: P, batchSize: 8, seed: 4, recipe: presetRecipe('gaussian:25') };
  const a = new StreamingPatchSampler(opts);
  const b = new StreamingPatchSampler(opts);
  try {
    const [ba, bb] = await Promise.all([take(a, 6), take(b, 6)]);
    assert.ok(sameBatches(ba, bb));
    let sq = 0;
    let n = 0;
    for (const batch of ba) {
      for (let i = 0; i < batch.clean.length; i++) {
        sq += (batch.degraded[i]! - batch.clean[i]!) ** 2;
        n++;
      }
    }
    const sigma = Math.sqrt(sq / n) * 255;
    assert.ok(Math.abs(sigma - 25) < 1.5, `measured sigma ${sigma}`);
    assert.ok(a.stats().synthMs > 0);
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
});

test('unusable files are skipped with a warning; nothing usable is an error', async () => {
  const { dir: bad, cleanup: done } = await tempDir();
  try {
    await writeFile(join(bad, 'broken.png'), 'not a png');
    await writeRaw(join(bad, 'tiny.png'), randomPixels(8, 8, 1), 8, 8);
    const mixed: DatasetItem[] = [
      ...items,
      { id: 'broken.png', clean: join(bad, 'broken.png'), degraded: items[0]!.degraded },
      { id: 'tiny.png', clean: join(bad, 'tiny.png'), degraded: join(bad, 'tiny.png') },
      { id: 'mismatch', clean: items[0]!.clean, degraded: items[1]!.degraded },
    ];
    const warnings: SamplerWarning[] = [];
    const s = new StreamingPatchSampler({ items: mixed, patchSize: P, batchSize: 8, onWarning: (w) => warnings.push(w) });
    await take(s, 20);
    await s.close();
    assert.deepEqual(warnings.map((w) => w.id).sort(), ['broken.png', 'mismatch', 'tiny.png']);
    assert.match(warnings.find((w) => w.id === 'tiny.png')!.reason, /smaller than the 16px patch/);
    assert.match(warnings.find((w) => w.id === 'mismatch')!.reason, /differs/);

    const hopeless = new StreamingPatchSampler({ items: mixed.slice(items.length), patchSize: P });
    await assert.rejects(hopeless.nextBatch(), { code: 'DATASET_EMPTY' });
    await hopeless.close();
    assert.throws(() => new StreamingPatchSampler({ items: [], patchSize: P }), { code: 'DATASET_EMPTY' });
  } finally {
    await done();
  }
});

test('nextBatch honours an abort signal and close() releases waiters', async () => {
  const s = new StreamingPatchSampler({ items, patchSize: P, batchSize: 4 });
  const controller = new AbortController();
  controller.abort();
  await assert.rejects(s.nextBatch(controller.signal), { code: 'CANCELLED' });
  await take(s, 2);
  await s.close();
  await assert.rejects(s.nextBatch(), { code: 'CANCELLED' });
});

test('validation crops are fixed: the same centre crops (and degradations) every pass', async () => {
  const paired = createValidationSet({ items, crop: 24 });
  const first: PatchBatch[] = [];
  for await (const b of paired.batches(2)) first.push(b);
  const second: PatchBatch[] = [];
  for await (const b of paired.batches(2)) second.push(b);
  assert.ok(sameBatches(first, second));
  // Every fixture image has a 24px centre crop.
  const count = first.reduce((s, b) => s + b.batch, 0);
  assert.equal(count, 5);
  for (const b of first) for (let i = 0; i < b.clean.length; i++) assert.ok(Math.abs(b.clean[i]! + b.degraded[i]! - 1) < 1e-6);
  // The first sample (p0.png, 40x32) is its centre crop.
  const samples = [];
  for await (const s of paired.samples()) samples.push(s);
  const src = sources.get('p0.png')!;
  const x0 = (40 - 24) / 2;
  const y0 = (32 - 24) / 2;
  assert.equal(Math.round(samples[0]!.clean[0]! * 255), src.px[(y0 * src.w + x0) * 3]);

  const cleanOnly = items.map((i) => ({ id: i.id, clean: i.clean }));
  const v1 = createValidationSet({ items: cleanOnly, crop: 24, seed: 3, recipe: presetRecipe('gaussian-blind') });
  const v2 = createValidationSet({ items: cleanOnly, crop: 24, seed: 3, recipe: presetRecipe('gaussian-blind') });
  const a: PatchBatch[] = [];
  const b: PatchBatch[] = [];
  for await (const x of v1.batches(8)) a.push(x);
  for await (const x of v2.batches(8)) b.push(x);
  assert.ok(sameBatches(a, b));
  assert.ok(a[0]!.degraded.some((v, i) => v !== a[0]!.clean[i]));

  const full = createValidationSet({ items, crop: 'full', maxItems: 2 });
  const shapes = [];
  for await (const x of full.batches()) shapes.push([x.batch, x.width, x.height]);
  assert.deepEqual(shapes, [
    [1, 40, 32],
    [1, 36, 36],
  ]);
  const big = createValidationSet({ items, crop: 38 });
  let kept = 0;
  for await (const x of big.batches(8)) kept += x.batch;
  assert.equal(kept, 0); // every fixture image has a side shorter than 38px
  assert.equal(big.skipped().size, 5);
});
