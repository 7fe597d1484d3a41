// Automatic tone and colour: faded and colour-cast photos come back, monochrome and sepia stay so, nothing
// clips, strength 0 is the identity and a well-exposed photo barely changes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { type RgbImage, cloneImage, fromUint8 } from '../../../src/main/engine/data/image';
import * as ops from '../../../src/main/engine/data/synth/ops';
import { Rng } from '../../../src/main/engine/data/rng';
import { psnr } from '../../../src/main/engine/metrics/index';
import { autoTone } from '../../../src/main/engine/infer/tone';
import { smoothPixels } from '../data/fixtures';

const W = 160;
const H = 120;

/** A photo-like test image: smooth colour blobs stretched to the full range, with something white (a
 *  collar, the sky, the paper border) and something black in it, as most photos have. */
function photo(seed = 3): RgbImage {
  const img = fromUint8(smoothPixels(W, H, seed), W, H);
  let lo = 1;
  let hi = 0;
  for (const v of img.data) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  for (let i = 0; i < img.data.length; i++) img.data[i] = 0.01 + (0.98 * (img.data[i]! - lo)) / (hi - lo);
  for (let y = 0; y < 20; y++) {
    for (let x = 0; x < 24; x++) {
      img.data.fill(0.97, (y * W + x) * 3, (y * W + x) * 3 + 3);
      img.data.fill(0.02, (y * W + W - 1 - x) * 3, (y * W + W - 1 - x) * 3 + 3);
    }
  }
  return img;
}

function extremes(img: RgbImage): number {
  let n = 0;
  for (const v of img.data) if (v <= 0 || v >= 1) n++;
  return n / img.data.length;
}

test('a faded, low-contrast photo gets its tones back', () => {
  const clean = photo();
  const faded = ops.contrast(ops.fade(cloneImage(clean), 0.6), 0.35);
  const before = psnr(faded.data, clean.data);
  const { image, kind } = autoTone(faded);
  const after = psnr(image.data, clean.data);
  assert.equal(kind, 'colour');
  assert.ok(after > before + 4, `PSNR ${before.toFixed(2)} -> ${after.toFixed(2)} dB`);
});

test('a faded, yellowed print loses its cast', () => {
  const clean = photo(5);
  const yellow = ops.yellowing(ops.fade(cloneImage(clean), 0.3), 0.8);
  // The white collar of the test photo (pixel 0) turned yellow; it comes back near neutral.
  const cast = (img: RgbImage): number => img.data[0]! - img.data[2]!;
  const toned = autoTone(yellow).image;
  assert.ok(cast(yellow) > 0.1, `the print is yellow: red - blue ${cast(yellow).toFixed(3)}`);
  assert.ok(Math.abs(cast(toned)) < cast(yellow) / 3, `red - blue ${cast(yellow).toFixed(3)} before, ${cast(toned).toFixed(3)} after`);
  assert.ok(psnr(toned.data, clean.data) > psnr(yellow.data, clean.data) + 2);
});

test('monochrome stays monochrome and sepia stays sepia, even with grain', () => {
  const mono = ops.contrast(ops.monochrome(photo(7)), 0.4);
  const { image: toned, kind: monoKind } = autoTone(mono);
  assert.equal(monoKind, 'monochrome');
  for (let i = 0; i < toned.data.length; i += 3) {
    assert.ok(Math.abs(toned.data[i]! - toned.data[i + 1]!) < 1e-5 && Math.abs(toned.data[i]! - toned.data[i + 2]!) < 1e-5, 'grey stays grey');
  }
  // Grain adds colour noise to single pixels; the photo is still judged monochrome.
  const grainy = ops.gaussianNoise(cloneImage(mono), new Rng(1), 12);
  assert.equal(autoTone(grainy).kind, 'monochrome');
  const sepia = ops.contrast(ops.sepia(ops.monochrome(photo(8)), 1), 0.4);
  const { image, kind } = autoTone(sepia);
  assert.equal(kind, 'monochrome');
  // The hue of each pixel is kept: its channel ratios do not change.
  for (let p = 0; p < W * H; p += 97) {
    const [r0, g0, b0] = [sepia.data[p * 3]!, sepia.data[p * 3 + 1]!, sepia.data[p * 3 + 2]!];
    const [r1, g1, b1] = [image.data[p * 3]!, image.data[p * 3 + 1]!, image.data[p * 3 + 2]!];
    if (r0 < 0.05) continue;
    assert.ok(Math.abs(g1 / r1 - g0 / r0) < 1e-3 && Math.abs(b1 / r1 - b0 / r0) < 1e-3, `pixel ${p} keeps its tint`);
  }
  const grey = autoTone(sepia, { neutralize: true }).image;
  assert.ok(Math.abs(grey.data[300]! - grey.data[302]!) < 1e-5, 'neutralize turns sepia grey');
});

test('nothing clips: values inside (0, 1) stay inside, however strong the stretch', () => {
  for (const img of [ops.contrast(ops.fade(photo(9), 0.8), 0.45), ops.brightness(photo(10), 0.2), ops.yellowing(photo(11), 1)]) {
    const before = extremes(img);
    const { image } = autoTone(img);
    assert.ok(extremes(image) <= before, `pixels at 0 or 1: ${before} before, ${extremes(image)} after`);
    assert.ok(image.data.every((v) => v >= 0 && v <= 1));
  }
});

test('strength 0 changes nothing, strength scales the change, and a well-exposed photo barely moves', () => {
  const faded = ops.fade(photo(12), 0.5);
  assert.deepEqual(autoTone(faded, { strength: 0 }).image.data, faded.data);
  const full = autoTone(faded).image;
  const half = autoTone(faded, { strength: 0.5 }).image;
  for (let i = 0; i < faded.data.length; i += 101) {
    assert.ok(Math.abs(half.data[i]! - (faded.data[i]! + full.data[i]!) / 2) < 1e-5);
  }
  const good = photo(13);
  const kept = psnr(autoTone(good).image.data, good.data);
  assert.ok(kept > 40, `a well-exposed photo keeps ${kept.toFixed(2)} dB against itself`);
  // A dim, warm photo that reaches black is not faded: it keeps its mood.
  const dim = ops.yellowing(ops.brightness(photo(15), -0.25), 0.5);
  for (let i = 0; i < dim.data.length; i += 3 * W) dim.data.fill(0, i, i + 3);
  const dimKept = psnr(autoTone(dim).image.data, dim.data);
  assert.ok(dimKept > 40, `a dim photo keeps ${dimKept.toFixed(2)} dB against itself`);
});

test('the input is left untouched', () => {
  const faded = ops.fade(photo(14), 0.5);
  const copy = Float32Array.from(faded.data);
  autoTone(faded);
  assert.deepEqual(faded.data, copy);
});
