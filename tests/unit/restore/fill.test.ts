// The fill stage replaces damaged pixels from their surroundings and leaves every other pixel exactly alone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createImage } from '../../../src/main/engine/data/image';
import { synthesize } from '../../../src/main/engine/data/synth/recipe';
import { fillDamage, fillMask } from '../../../src/main/engine/data/fill';
import { psnrFromMse, squaredError } from '../../../src/main/engine/metrics/index';

function psnrOn(a: { data: Float32Array }, b: { data: Float32Array }, mask: Float32Array): number {
  const { sum, count } = squaredError(a.data, b.data, { mask });
  return psnrFromMse(sum / count);
}

/** A smooth colour gradient: what is under a thin scratch is predictable from its neighbours. */
function gradient(w: number, h: number) {
  const img = createImage(w, h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = (y * w + x) * 3;
      img.data[i] = 0.2 + (0.6 * x) / w;
      img.data[i + 1] = 0.3 + (0.4 * y) / h;
      img.data[i + 2] = 0.5 + 0.2 * Math.sin(x / 17 + y / 23);
    }
  }
  return img;
}

test('scratches and dust on a smooth photo are filled to within a few grey levels; other pixels are untouched', async () => {
  const clean = gradient(200, 150);
  const { image: damaged, damage } = await synthesize(
    { width: clean.width, height: clean.height, data: clean.data.slice() },
    { op: 'chain', steps: [{ op: 'scratches', count: 12, opacity: [0.9, 0.95] }, { op: 'dust', count: 150, opacity: [0.9, 1] }] },
    3,
  );
  const truth = Float32Array.from(damage, (v) => (v > 0 ? 1 : 0));
  const { image: filled, replaced, filledShare } = fillDamage(damaged, truth, { threshold: 0.5, grow: 1 });
  assert.ok(filledShare > 0.005 && filledShare < 0.3, `a share of the photo was filled: ${filledShare}`);
  const before = psnrOn(damaged, clean, truth);
  const after = psnrOn(filled, clean, truth);
  assert.ok(before < 20, `the damage is visible: ${before.toFixed(1)} dB on the damaged pixels`);
  assert.ok(after > 38, `the fill is close to what was there: ${after.toFixed(1)} dB (was ${before.toFixed(1)})`);
  for (let p = 0; p < replaced.length; p++) {
    if (replaced[p] !== 0) continue;
    for (let c = 0; c < 3; c++) assert.equal(filled.data[p * 3 + c], damaged.data[p * 3 + c], `pixel ${p} away from damage is kept`);
  }
});

test('no damage leaves the photo bit for bit; damage everywhere leaves it as it is rather than inventing one', () => {
  const photo = gradient(64, 48);
  const none = fillDamage(photo, new Float32Array(64 * 48));
  assert.deepEqual(none.image.data, photo.data);
  assert.equal(none.filledShare, 0);
  const all = fillDamage(photo, new Float32Array(64 * 48).fill(1));
  assert.deepEqual(all.image.data, photo.data);
});

test('the fill mask is the thresholded damage grown by the given pixels with a half-weight rim', () => {
  const w = 9;
  const mask = new Float32Array(w * w);
  mask[4 * w + 4] = 0.7; // above the threshold
  mask[0] = 0.3; // below it
  const m = fillMask(mask, w, w, 0.5, 1);
  assert.equal(m[0], 0);
  for (let y = 3; y <= 5; y++) for (let x = 3; x <= 5; x++) assert.equal(m[y * w + x], 1, `(${x},${y}) grown`);
  assert.equal(m[2 * w + 4], 0.5);
  assert.equal(m[4 * w + 6], 0.5);
  assert.equal(m[2 * w + 2], 0, 'the rim is 4-connected');
  assert.throws(() => fillDamage(createImage(4, 4), new Float32Array(3)), /3 values for a 4x4 photo/);
});
