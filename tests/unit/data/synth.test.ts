import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type RgbImage, createImage, fromUint8 } from '../../../src/main/engine/data/image';
import { Rng } from '../../../src/main/engine/data/rng';
import * as ops from '../../../src/main/engine/data/synth/ops';
import { resize } from '../../../src/main/engine/data/synth/filters';
import { DegradationStepSchema, type DegradationStep, synthesize } from '../../../src/main/engine/data/synth/recipe';
import { OLD_PHOTO, presetRecipe, resolvePreset } from '../../../src/main/engine/data/synth/presets';
import { randomPixels, smoothPixels, tempDir } from './fixtures';

const S = 128;

function flat(value: number | [number, number, number], size = S): RgbImage {
  const img = createImage(size, size);
  const v = typeof value === 'number' ? [value, value, value] : value;
  for (let i = 0; i < img.data.length; i++) img.data[i] = v[i % 3]!;
  return img;
}

const textured = (): RgbImage => fromUint8(randomPixels(S, S, 77), S, S);
const photo = (): RgbImage => fromUint8(smoothPixels(S, S, 78), S, S);

function stats(values: ArrayLike<number>): { mean: number; std: number } {
  let s = 0;
  let q = 0;
  for (let i = 0; i < values.length; i++) s += values[i]!;
  const mean = s / values.length;
  for (let i = 0; i < values.length; i++) q += (values[i]! - mean) ** 2;
  return { mean, std: Math.sqrt(q / values.length) };
}

function diff(a: RgbImage, b: RgbImage): Float32Array {
  const out = new Float32Array(a.data.length);
  for (let i = 0; i < out.length; i++) out[i] = a.data[i]! - b.data[i]!;
  return out;
}

/** Mean squared difference between horizontal (dx) or vertical (dy) neighbours: high-frequency energy. */
function hfEnergy(img: RgbImage, axis: 'x' | 'y' | 'both' = 'both'): number {
  let e = 0;
  let n = 0;
  const { width: w, height: h, data: d } = img;
  for (let y = 0; y < h - 1; y++) {
    for (let x = 0; x < w - 1; x++) {
      const i = (y * w + x) * 3;
      for (let c = 0; c < 3; c++) {
        if (axis !== 'y') e += (d[i + c]! - d[i + 3 + c]!) ** 2;
        if (axis !== 'x') e += (d[i + c]! - d[i + w * 3 + c]!) ** 2;
        n++;
      }
    }
  }
  return e / n;
}

const close = (actual: number, expected: number, rel: number, what: string): void =>
  assert.ok(Math.abs(actual - expected) <= rel * Math.abs(expected), `${what}: ${actual} not within ${rel * 100}% of ${expected}`);

async function run(step: DegradationStep, img: RgbImage, seed = 1): Promise<RgbImage> {
  return (await synthesize(img, step, seed)).image;
}

test('synthesis is reproducible for a seed and leaves the clean image alone', async () => {
  const clean = photo();
  const copy = clean.data.slice();
  const a = await synthesize(clean, OLD_PHOTO, 5);
  const b = await synthesize(clean, OLD_PHOTO, 5);
  assert.deepEqual(a.image.data, b.image.data);
  assert.deepEqual(a.applied, b.applied);
  assert.deepEqual(clean.data, copy);
  let differs = 0;
  for (let seed = 6; seed < 10; seed++) {
    const c = await synthesize(clean, OLD_PHOTO, seed);
    if (c.image.data.some((v, i) => v !== a.image.data[i])) differs++;
  }
  assert.ok(differs >= 3, 'other seeds give other degradations');
});

test('gaussian:<sigma> adds noise of that sigma on the 0–255 scale, unclipped', async () => {
  const recipe = presetRecipe('gaussian:25');
  const clean = flat(0.5);
  const noisy = await run(recipe, clean);
  const s = stats(diff(noisy, clean));
  close(s.std, 25 / 255, 0.02, 'sigma');
  assert.ok(Math.abs(s.mean) < 0.002);
  const dark = await run(presetRecipe('gaussian:50'), flat(0.02));
  assert.ok(dark.data.some((v) => v < 0), 'values below 0 are kept');
  const clipped = await run({ op: 'gaussianNoise', sigma: 50 }, flat(0.02));
  assert.ok(clipped.data.every((v) => v >= 0 && v <= 1));
});

test('gaussian-blind draws sigma uniformly in [0, 55] and adds that much noise', async () => {
  const recipe = presetRecipe('gaussian-blind');
  const sigmas: number[] = [];
  for (let seed = 0; seed < 30; seed++) {
    const r = await synthesize(flat(0.5, 64), recipe, seed);
    const sigma = r.applied[0]!.params.sigma as number;
    assert.ok(sigma >= 0 && sigma <= 55);
    sigmas.push(sigma);
    if (sigma > 5) close(stats(diff(r.image, flat(0.5, 64))).std, sigma / 255, 0.06, `sigma ${sigma}`);
  }
  assert.ok(Math.min(...sigmas) < 15 && Math.max(...sigmas) > 40, 'covers the range');
});

test('Poisson, speckle and salt-and-pepper noise have the advertised statistics', async () => {
  const clean = flat(0.5);
  close(stats(diff(await run({ op: 'poissonNoise', peak: 100 }, clean), clean)).std, Math.sqrt(0.5 / 100), 0.05, 'poisson std');
  close(stats(diff(await run({ op: 'speckleNoise', sigma: 0.1 }, clean), clean)).std, 0.05, 0.05, 'speckle std');
  const sp = await run({ op: 'saltPepper', amount: 0.05 }, clean);
  let hit = 0;
  let salt = 0;
  for (let p = 0; p < S * S; p++) {
    const v = sp.data[p * 3]!;
    if (v !== 0.5) {
      hit++;
      if (v === 1) salt++;
      assert.equal(sp.data[p * 3 + 1], v);
    }
  }
  close(hit / (S * S), 0.05 * (1 - 0.025), 0.1, 'impulse fraction');
  close(salt / hit, 0.5, 0.15, 'salt share');
});

test('film grain has the given strength, is spatially correlated, and vignetting darkens the corners', async () => {
  const clean = flat(0.5);
  const grain = await run({ op: 'filmGrain', amount: 0.04, size: 1 }, clean);
  const d = diff(grain, clean);
  close(stats(d).std, 0.04, 0.1, 'grain std');
  let corr = 0;
  for (let i = 0; i < d.length - 3; i += 3) corr += d[i]! * d[i + 3]!;
  assert.ok(corr / (d.length / 3) / 0.04 ** 2 > 0.3, 'neighbouring grain is correlated');
  assert.equal(d[0], d[1], 'monochrome grain');
  const v = await run({ op: 'vignette', strength: 0.5, radius: 0.3 }, clean);
  const centre = v.data[((S / 2) * S + S / 2) * 3]!;
  const corner = Math.max(v.data[0]!, v.data[(S - 1) * 3]!, v.data[(S * S - 1) * 3]!);
  assert.ok(centre > 0.49);
  assert.ok(corner < 0.35, `corner ${corner}`);
});

test('blurs and downscaling lower high-frequency energy', async () => {
  const img = textured();
  const base = hfEnergy(img);
  const blurred = await run({ op: 'gaussianBlur', sigma: 2 }, img);
  assert.ok(hfEnergy(blurred) < 0.1 * base);
  close(stats(blurred.data).mean, stats(img.data).mean, 0.01, 'blur keeps the mean');
  const motion = await run({ op: 'motionBlur', length: 9, angle: 0 }, img);
  assert.ok(hfEnergy(motion, 'x') < 0.1 * hfEnergy(img, 'x'), 'horizontal motion smooths along x');
  assert.ok(hfEnergy(motion, 'y') > 0.5 * hfEnergy(motion, 'x') * 5, 'and much less along y');
  const down = await run({ op: 'downscale', factor: 3, down: ['area'], up: ['bicubic'] }, img);
  assert.equal(down.width, S);
  assert.equal(down.height, S);
  assert.ok(hfEnergy(down) < 0.3 * base);
  const small = resize(flat([0.2, 0.4, 0.6]), 40, 30, 'bicubic');
  assert.ok(Math.abs(small.data[0]! - 0.2) < 1e-5 && Math.abs(small.data[5]! - 0.6) < 1e-5, 'resampling keeps flat colours');
});

test('JPEG: smaller files and larger errors as quality drops', async () => {
  const img = photo();
  const sizes = [];
  const errors = [];
  for (const q of [95, 60, 20, 5]) {
    sizes.push(await ops.jpegSize(img, q));
    const out = await run(presetRecipe(`jpeg:${q}`), img);
    errors.push(stats(diff(out, img).map((v) => v * v)).mean);
  }
  for (let i = 1; i < sizes.length; i++) {
    assert.ok(sizes[i]! < sizes[i - 1]!, `size at step ${i}: ${sizes}`);
    assert.ok(errors[i]! > errors[i - 1]!, `error at step ${i}: ${errors}`);
  }
});

test('blind JPEG covers the qualities, both chroma subsamplings and double compression photos arrive with', async () => {
  const img = photo();
  const qualities: number[] = [];
  const chromas = new Set<string>();
  let doubled = 0;
  const runs = 80;
  for (let seed = 0; seed < runs; seed++) {
    const { applied } = await synthesize(img, presetRecipe('jpeg-blind'), seed);
    assert.ok(applied.length === 1 || applied.length === 2, `one or two compressions, got ${applied.length}`);
    qualities.push(applied[0]!.params.quality as number);
    chromas.add(applied[0]!.params.chroma as string);
    if (applied.length === 2) doubled++;
  }
  assert.ok(Math.min(...qualities) >= 5 && Math.max(...qualities) <= 95, `qualities within 5..95: ${qualities}`);
  const low = qualities.filter((q) => q < 40).length;
  assert.ok(low > runs * 0.3 && low < runs * 0.7, `about half below quality 40: ${low} of ${runs}`);
  assert.deepEqual([...chromas].sort(), ['4:2:0', '4:4:4']);
  assert.ok(doubled > runs * 0.1 && doubled < runs * 0.4, `about one in four saved twice: ${doubled} of ${runs}`);
  // 4:4:4 keeps colour edges that 4:2:0 smears: a red/blue checker of 1 px loses less to it.
  const checker = createImage(64, 64);
  for (let i = 0; i < 64 * 64; i++) checker.data.set(((i % 64) + Math.floor(i / 64)) % 2 ? [1, 0, 0] : [0, 0, 1], i * 3);
  const error = async (chroma: ops.ChromaSubsampling): Promise<number> => stats(diff(await ops.jpeg(checker, 90, chroma), checker).map((v) => v * v)).mean;
  assert.ok((await error('4:4:4')) < (await error('4:2:0')), 'full chroma keeps colour detail');
});

test('colour and tone operations do what they say', async () => {
  const img = photo();
  const sat = (x: RgbImage): number => {
    let s = 0;
    for (let i = 0; i < x.data.length; i += 3) s += Math.max(x.data[i]!, x.data[i + 1]!, x.data[i + 2]!) - Math.min(x.data[i]!, x.data[i + 1]!, x.data[i + 2]!);
    return s;
  };
  const channelMean = (x: RgbImage, c: number): number => {
    let s = 0;
    for (let i = c; i < x.data.length; i += 3) s += x.data[i]!;
    return s / (x.data.length / 3);
  };
  const faded = await run({ op: 'fade', amount: 0.8 }, img);
  assert.ok(sat(faded) < 0.5 * sat(img));
  assert.ok(Math.min(...faded.data) > 0.2, 'blacks lift');
  const yellow = await run({ op: 'yellowing', amount: 0.8 }, img);
  assert.ok(channelMean(yellow, 2) / channelMean(yellow, 0) < 0.85 * (channelMean(img, 2) / channelMean(img, 0)));
  const sep = await run({ op: 'sepia', amount: 1 }, flat(0.4));
  assert.ok(sep.data[0]! > sep.data[1]! && sep.data[1]! > sep.data[2]!, 'sepia is warm brown');
  const lowContrast = await run({ op: 'contrast', amount: 0.5 }, img);
  close(stats(lowContrast.data).std, 0.5 * stats(img.data).std, 0.1, 'contrast');
  const darker = await run({ op: 'brightness', delta: -0.1 }, flat(0.5));
  close(stats(darker.data).mean, 0.4, 1e-5, 'brightness');
});

test('scratches, dust and specks mark a small part of the image', async () => {
  const img = flat(0.5, 256);
  const changed = (x: RgbImage): number => {
    let n = 0;
    for (let i = 0; i < x.data.length; i += 3) if (Math.abs(x.data[i]! - 0.5) > 0.05) n++;
    return n / (x.data.length / 3);
  };
  for (const step of [
    { op: 'scratches', count: 6 },
    { op: 'dust', count: 40 },
    { op: 'specks', count: 200 },
  ] as DegradationStep[]) {
    const f = changed(await run(step, img, 3));
    assert.ok(f > 0.0005 && f < 0.1, `${step.op} changed ${f}`);
  }
  assert.equal(changed(await run({ op: 'scratches', count: 0 }, img)), 0);
  // Scratches are long and thin: the marked pixels span a large part of the image.
  const sc = await run({ op: 'scratches', count: 12, width: [1, 1.5] }, img, 4);
  let [minX, minY, maxX, maxY] = [Infinity, Infinity, -Infinity, -Infinity];
  for (let p = 0; p < 256 * 256; p++) {
    if (Math.abs(sc.data[p * 3]! - 0.5) > 0.05) {
      const x = p % 256;
      const y = Math.floor(p / 256);
      [minX, minY, maxX, maxY] = [Math.min(minX, x), Math.min(minY, y), Math.max(maxX, x), Math.max(maxY, y)];
    }
  }
  assert.ok(Math.max(maxX - minX, maxY - minY) > 64, `scratch extent ${maxX - minX}x${maxY - minY}`);
  assert.ok(changed(sc) < 0.05, 'and thin');
});

test('old-photo chains several operations and stays in range', async () => {
  const img = photo();
  const counts = new Map<string, number>();
  for (let seed = 0; seed < 12; seed++) {
    const r = await synthesize(img, OLD_PHOTO, seed);
    assert.ok(r.image.data.every((v) => v >= 0 && v <= 1 && Number.isFinite(v)));
    for (const a of r.applied) counts.set(a.op, (counts.get(a.op) ?? 0) + 1);
  }
  for (const op of ['scratches', 'jpeg']) assert.ok((counts.get(op) ?? 0) > 0, `${op} used`);
  assert.ok(counts.size >= 8, `varied chain: ${[...counts.keys()]}`);
});

test('presets and recipe files are validated', async () => {
  assert.equal(DegradationStepSchema.safeParse(OLD_PHOTO).success, true);
  assert.equal(DegradationStepSchema.safeParse({ op: 'bogus' }).success, false);
  assert.equal(DegradationStepSchema.safeParse({ op: 'gaussianNoise', sigma: [30, 10] }).success, false);
  assert.throws(() => presetRecipe('gaussian:abc'), { code: 'BAD_INPUT' });
  assert.throws(() => presetRecipe('jpeg:0'), { code: 'BAD_INPUT' });
  assert.throws(() => presetRecipe('nope'), { code: 'BAD_INPUT' });
  assert.deepEqual(presetRecipe('jpeg:30'), { op: 'jpeg', quality: 30 });
  const { dir, cleanup } = await tempDir();
  try {
    const file = join(dir, 'r.json');
    await writeFile(file, JSON.stringify({ op: 'chain', steps: [{ op: 'gaussianBlur', sigma: 1 }, { op: 'jpeg', quality: [20, 40], p: 0.5 }] }));
    assert.equal((await resolvePreset(file)).op, 'chain');
    await writeFile(file, JSON.stringify({ op: 'chain', steps: [{ op: 'jpeg' }] }));
    await assert.rejects(resolvePreset(file), { code: 'BAD_INPUT' });
  } finally {
    await cleanup();
  }
});

test('the Rng-driven ops are deterministic per seed', () => {
  const a = ops.gaussianNoise(flat(0.5, 32), new Rng(1), 10);
  const b = ops.gaussianNoise(flat(0.5, 32), new Rng(1), 10);
  assert.deepEqual(a.data, b.data);
});
