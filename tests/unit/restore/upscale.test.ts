// Upscalers (models whose output is 2x or 4x the input): a 576x720 photo comes out 1152x1440 / 2304x2880,
// tiled output equals whole-image output (no seams), EXIF and ICC are kept with the new dimensions, the scale
// is read from the card or measured, out-of-memory retries with smaller tiles still stitch right, and no
// tensors are left behind.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { restoreBatch } from '../../../src/main/engine/infer/batch';
import { loadRestoreModel, type RestoreModel } from '../../../src/main/engine/infer/model';
import { decodePhoto, readPhoto } from '../../../src/main/engine/infer/photo';
import { restoreRows, wholeImageSink } from '../../../src/main/engine/infer/restore-image';
import { BAND_BUDGET, bandBytes, fitBand, isOutOfMemory, planTiles } from '../../../src/main/engine/infer/memory';
import { savePackage } from '../../../src/main/engine/package/index';
import { pixelShuffle } from '../../../src/main/engine/models/layers';
import { mulberry32, photoPixels, tempDir } from './helpers';
import { useTestBackend } from '../../helpers/native';

const W = 576;
const H = 720;
const EXIF = { IFD0: { Make: 'Acme Camera Co', Copyright: 'Jane Doe 1962' }, IFD2: { PixelXDimension: String(W), PixelYDimension: String(H) } };

let root: { dir: string; cleanup: () => Promise<void> };
let photoPath: string;

function randomize(model: tfl.LayersModel, seed: number, spread = 0.2): void {
  const rand = mulberry32(seed);
  model.setWeights(model.getWeights().map((w) => tf.tensor(Float32Array.from({ length: w.size }, () => (rand() - 0.5) * spread), w.shape)));
}

/** x2: a 3x3 conv to 12 channels, pixel shuffle, a 3x3 conv at full size, plus the nearest-upsampled input. */
function shuffleUpscaler(): tfl.LayersModel {
  const x = tfl.input({ shape: [null, null, 3] });
  let h = tfl.layers.conv2d({ filters: 12, kernelSize: 3, padding: 'same', activation: 'relu' }).apply(x) as tfl.SymbolicTensor;
  h = pixelShuffle(h, 2) as tfl.SymbolicTensor;
  h = tfl.layers.conv2d({ filters: 3, kernelSize: 3, padding: 'same' }).apply(h) as tfl.SymbolicTensor;
  const up = tfl.layers.upSampling2d({ size: [2, 2] }).apply(x) as tfl.SymbolicTensor;
  const model = tfl.model({ inputs: x, outputs: tfl.layers.add().apply([up, h]) as tfl.SymbolicTensor });
  randomize(model, 11);
  return model;
}

/** x4: a conv at input size, UpSampling2D x4 (nearest), a conv at output size, plus the upsampled input. */
function nearestUpscaler(): tfl.LayersModel {
  const x = tfl.input({ shape: [null, null, 3] });
  let h = tfl.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', activation: 'relu' }).apply(x) as tfl.SymbolicTensor;
  h = tfl.layers.upSampling2d({ size: [4, 4] }).apply(h) as tfl.SymbolicTensor;
  h = tfl.layers.conv2d({ filters: 3, kernelSize: 3, padding: 'same' }).apply(h) as tfl.SymbolicTensor;
  const up = tfl.layers.upSampling2d({ size: [4, 4] }).apply(x) as tfl.SymbolicTensor;
  const model = tfl.model({ inputs: x, outputs: tfl.layers.add().apply([up, h]) as tfl.SymbolicTensor });
  randomize(model, 12);
  return model;
}

/** Saves `model` as a studio package; `scale` written into its card, or left for the loader to measure. */
async function upscalerPackage(model: tfl.LayersModel, id: string, scale?: number): Promise<string> {
  const saved = await savePackage(join(root.dir, 'models'), model, { id, name: id, architecture: { id: 'external' }, source: 'imported-tfjs' });
  if (scale !== undefined) {
    const cardPath = join(saved.dir, 'card.json');
    const card = JSON.parse(await readFile(cardPath, 'utf8')) as Record<string, unknown>;
    await writeFile(cardPath, JSON.stringify({ ...card, scale }));
  }
  model.dispose();
  return saved.dir;
}

async function floatsOf(model: RestoreModel, tile: number): Promise<Float32Array> {
  const photo = await readPhoto(photoPath);
  const scale = model.scale ?? 1;
  const out = new Float32Array(photo.width * scale * photo.height * scale * 3);
  await restoreRows(model, photo, planTiles(model, tile), wholeImageSink(photo.width * scale, out));
  return out;
}

function maxAbs(a: Float32Array | Uint8Array, b: Float32Array | Uint8Array): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
  return worst;
}

before(async () => {
  await useTestBackend();
  root = await tempDir('studio-upscale-');
  const input = join(root.dir, 'in');
  await mkdir(input);
  photoPath = join(input, 'photo.jpg');
  // withMetadata first (it resets the profile), then the P3 profile and EXIF that names the old size.
  const raw = sharp(photoPixels(W, H, 3, 5), { raw: { width: W, height: H, channels: 3 } });
  await writeFile(photoPath, await raw.withMetadata({ density: 300 }).withIccProfile('p3').withExif(EXIF).jpeg({ quality: 95 }).toBuffer());
});

after(async () => {
  await root.cleanup();
});

test('the scale comes from the card, else from a probe of the output size', async () => {
  const fromCard = await loadRestoreModel(await upscalerPackage(shuffleUpscaler(), 'card-x2', 2));
  const measured = await loadRestoreModel(await upscalerPackage(nearestUpscaler(), 'probe-x4'));
  try {
    assert.equal(fromCard.scale, 2);
    assert.equal(measured.scale, 4);
  } finally {
    fromCard.dispose();
    measured.dispose();
  }
});

for (const [scale, make] of [
  [2, shuffleUpscaler],
  [4, nearestUpscaler],
] as const) {
  test(`a ${scale}x model restores ${W}x${H} to ${W * scale}x${H * scale}: no seams, EXIF and ICC kept, dimensions updated, no tensors left`, async () => {
    const model = await loadRestoreModel(await upscalerPackage(make(), `x${scale}`, scale));
    try {
      const tensorsBefore = tf.memory().numTensors;
      // Seams: 96-pixel tiles (many tiles, bands of rows) against one tile for the whole photo; in floats at
      // 2x, and through the written file at both scales (4x on the cpu backend is slow: one run fewer).
      const whole = await floatsOf(model, 1024);
      if (scale === 2) {
        const seam = maxAbs(whole, await floatsOf(model, 96));
        assert.ok(seam < 1e-4, `tiled differs from whole by ${seam}`);
      }
      const photo = await readPhoto(photoPath);
      // Not a copy of the nearest-upsampled input: the model's own convolutions contribute.
      let changed = 0;
      for (let y = 0; y < H * scale; y += 7) {
        for (let x = 0; x < W * scale; x += 5) {
          const i = ((y * W * scale + x) * 3) | 0;
          const p = (Math.floor(y / scale) * W + Math.floor(x / scale)) * 3;
          changed = Math.max(changed, Math.abs(whole[i]! - photo.pixels[p]! / 255));
        }
      }
      assert.ok(changed > 0.02, `the model changes the image (${changed})`);

      const out = join(root.dir, `out-x${scale}`);
      // PNG out, so the pixel check below is exact (JPEG would add its own error to a noisy test image).
      const summary = await restoreBatch({ input: photoPath, out, model, tile: 96, format: 'png' });
      assert.equal(summary.done, 1, JSON.stringify(summary.failed));
      const done = summary.files[0]!;
      assert.ok(done.status === 'done' && done.notes.includes(`${scale}× upscale to ${W * scale}x${H * scale}`), JSON.stringify(done));
      const bytes = await readFile(join(out, 'photo.png'));
      const meta = await sharp(bytes).metadata();
      assert.equal(meta.width, W * scale);
      assert.equal(meta.height, H * scale);
      const inMeta = await sharp(await readFile(photoPath)).metadata();
      assert.ok(meta.icc && inMeta.icc && Buffer.compare(meta.icc, inMeta.icc) === 0, 'the same ICC profile');
      const exif = meta.exif?.toString('latin1') ?? '';
      assert.match(exif, /Acme Camera Co/);
      assert.match(exif, /Jane Doe 1962/);
      const dims = exifDimensions(meta.exif!);
      assert.deepEqual(dims, { x: W * scale, y: H * scale }, 'EXIF PixelX/YDimension name the new size');
      // The written pixels, restored in 96-pixel tiles, are the whole-image floats quantised.
      const decoded = await decodePhoto(bytes);
      const expected = Uint8Array.from(whole, (v) => Math.max(0, Math.min(255, Math.round(v * 255))));
      assert.ok(maxAbs(expected, decoded.pixels as Uint8Array) <= 1, `the tiled file differs from the whole-image result by ${maxAbs(expected, decoded.pixels as Uint8Array)}/255`);
      assert.equal(tf.memory().numTensors, tensorsBefore, 'tensor count flat');
    } finally {
      model.dispose();
    }
  });
}

test('out of memory in a 4x tile: the batch retries with smaller tiles and still stitches without seams; hopeless files fail with a sentence', async () => {
  const real = await loadRestoreModel(await upscalerPackage(nearestUpscaler(), 'x4-oom', 4));
  // A backend whose allocations above `limit` output pixels fail, as tfjs reports it on a full heap.
  const budgeted = (limit: number): RestoreModel => ({
    ...real,
    id: `budget-${limit}`,
    fingerprint: `budget-${limit}`,
    run: (x) => {
      if (x.shape[1] * x.shape[2] * 16 > limit) throw new Error('Failed to allocate 1207959552 bytes: out of memory');
      return real.run(x);
    },
  });
  try {
    const tensorsBefore = tf.memory().numTensors;
    const input = join(root.dir, 'batch');
    await mkdir(input);
    const small = sharp(photoPixels(300, 260, 3, 9), { raw: { width: 300, height: 260, channels: 3 } });
    await writeFile(join(input, 'a.png'), await small.png().toBuffer());
    await writeFile(join(input, 'b.png'), await small.flop().png().toBuffer());
    const whole = await restoreBatch({ input, out: join(root.dir, 'oom-whole'), model: real, tile: 512 });
    assert.equal(whole.done, 2);
    const summary = await restoreBatch({ input, out: join(root.dir, 'oom-retry'), model: budgeted(200 * 200 * 16), tile: 512 });
    assert.equal(summary.done, 2, JSON.stringify(summary.failed));
    for (const f of summary.files) {
      assert.ok(f.status === 'done' && f.retries >= 1 && f.tile < 512, JSON.stringify(f));
    }
    for (const name of ['a.png', 'b.png']) {
      const a = await decodePhoto(await readFile(join(root.dir, 'oom-whole', name)));
      const b = await decodePhoto(await readFile(join(root.dir, 'oom-retry', name)));
      assert.equal(a.width, 1200);
      assert.ok(maxAbs(a.pixels as Uint8Array, b.pixels as Uint8Array) <= 1, `${name}: retried output matches`);
    }
    const hopeless = await restoreBatch({ input, out: join(root.dir, 'oom-fail'), model: budgeted(50 * 50 * 16), tile: 512 });
    assert.equal(hopeless.done, 0);
    assert.equal(hopeless.failed.length, 2, 'every file is tried: the batch goes on');
    assert.match(hopeless.failed[0]!.reason, /ran out of memory even with 128-pixel tiles/);
    assert.equal(tf.memory().numTensors, tensorsBefore, 'tensor count flat after failures');
  } finally {
    real.dispose();
  }
});

test('alpha and grayscale at 2x: alpha passed through, each value repeated 2x2; grayscale stays one channel', async () => {
  const model = await loadRestoreModel(await upscalerPackage(shuffleUpscaler(), 'x2-alpha', 2));
  try {
    const input = join(root.dir, 'alpha-in');
    await mkdir(input);
    const rgba = photoPixels(60, 40, 4, 3);
    await writeFile(join(input, 'alpha.png'), await sharp(rgba, { raw: { width: 60, height: 40, channels: 4 } }).png().toBuffer());
    await writeFile(join(input, 'gray.png'), await sharp(photoPixels(60, 40, 1, 4), { raw: { width: 60, height: 40, channels: 1 } }).toColourspace('b-w').png().toBuffer());
    const out = join(root.dir, 'alpha-out');
    const summary = await restoreBatch({ input, out, model });
    assert.equal(summary.done, 2, JSON.stringify(summary.failed));
    const alpha = await decodePhoto(await readFile(join(out, 'alpha.png')));
    assert.deepEqual([alpha.width, alpha.height, alpha.channels], [120, 80, 4]);
    for (const [x, y] of [[0, 0], [13, 7], [119, 79], [64, 41]]) {
      assert.equal(alpha.pixels[(y! * 120 + x!) * 4 + 3], rgba[(Math.floor(y! / 2) * 60 + Math.floor(x! / 2)) * 4 + 3], `alpha at ${x},${y}`);
    }
    const gray = await sharp(await readFile(join(out, 'gray.png'))).metadata();
    assert.deepEqual([gray.width, gray.height, gray.channels], [120, 80, 1]);
  } finally {
    model.dispose();
  }
});

test('wide photos at 4x get shorter bands; the out-of-memory errors of each backend are recognised', async () => {
  const model = await loadRestoreModel(await upscalerPackage(nearestUpscaler(), 'x4-bands', 4));
  try {
    const plan = planTiles(model, 1024);
    assert.equal(fitBand(plan, { ...model, scale: 1 }, 16000).tile, 1024, 'a restorer keeps its tile');
    const wide = fitBand(plan, model, 16000);
    assert.ok(wide.tile < 1024 && wide.tile >= 128, `4x on 16000 px: tile ${wide.tile}`);
    assert.ok(bandBytes(wide, model, 16000) <= BAND_BUDGET);
    assert.ok(bandBytes(planTiles(model, wide.tile * 2), model, 16000) > BAND_BUDGET, 'no smaller than it has to be');
    assert.equal(fitBand(plan, model, 576).tile, 1024, 'a 576-px-wide photo fits whole');
  } finally {
    model.dispose();
  }
  for (const message of [
    'OOM when allocating tensor with shape[1,64,2048,2048] and type float on /job:localhost', // TensorFlow (native)
    'ResourceExhaustedError: failed to allocate memory',
    'RuntimeError: Aborted(OOM)', // wasm (Emscripten)
    'RangeError: WebAssembly.Memory.grow(): Maximum memory size exceeded',
    'RangeError: Array buffer allocation failed', // V8 (cpu backend, typed arrays)
  ]) {
    assert.ok(isOutOfMemory(new Error(message)), message);
  }
  assert.equal(isOutOfMemory(new Error('Input image exceeds pixel limit')), false);
});

/** EXIF PixelXDimension (0xA002) and PixelYDimension (0xA003) from a TIFF-structured EXIF block. */
function exifDimensions(exif: Buffer): { x: number; y: number } {
  const start = exif.indexOf('Exif\0\0') === 0 ? 6 : 0;
  const tiff = exif.subarray(start);
  const le = tiff.toString('latin1', 0, 2) === 'II';
  const u16 = (o: number): number => (le ? tiff.readUInt16LE(o) : tiff.readUInt16BE(o));
  const u32 = (o: number): number => (le ? tiff.readUInt32LE(o) : tiff.readUInt32BE(o));
  const entries = (ifd: number): { tag: number; type: number; value: number }[] =>
    Array.from({ length: u16(ifd) }, (_, i) => {
      const at = ifd + 2 + i * 12;
      const type = u16(at + 2);
      return { tag: u16(at), type, value: type === 3 ? u16(at + 8) : u32(at + 8) };
    });
  const exifIfd = entries(u32(4)).find((e) => e.tag === 0x8769);
  assert.ok(exifIfd, 'an Exif sub-IFD');
  const sub = entries(exifIfd.value);
  return { x: sub.find((e) => e.tag === 0xa002)?.value ?? -1, y: sub.find((e) => e.tag === 0xa003)?.value ?? -1 };
}
