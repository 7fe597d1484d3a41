import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { batchMetrics, psnr, psnrTf, quantize8, quantize8Tf, ssim, ssimTf } from '../../../src/main/engine/metrics/index';
import { charbonnierLoss, l1Loss, mseLoss, ssimMixLoss } from '../../../src/main/engine/train/losses';
import { mulberry32, smoothPatch } from './helpers';
import { useTestBackend } from '../../helpers/native';

await useTestBackend();

function constant(h: number, w: number, value: number): Float32Array {
  return new Float32Array(h * w * 3).fill(value);
}

function noisy(base: Float32Array, amount: number, seed: number): Float32Array {
  const rand = mulberry32(seed);
  return base.map((v) => v + (rand() - 0.5) * 2 * amount);
}

/**
 * An independent, deliberately plain SSIM: for every position where the full 11x11 window fits, weight the
 * window with the 2-D Gaussian directly (no separable filtering), per channel, then average.
 */
function referenceSsim(a: Float32Array, b: Float32Array, h: number, w: number): number {
  const size = 11;
  const sigma = 1.5;
  const win: number[][] = [];
  let total = 0;
  for (let i = 0; i < size; i++) {
    win.push([]);
    for (let j = 0; j < size; j++) {
      const v = Math.exp(-((i - 5) ** 2 + (j - 5) ** 2) / (2 * sigma * sigma));
      win[i]!.push(v);
      total += v;
    }
  }
  const q = (v: number): number => Math.round(Math.min(1, Math.max(0, v)) * 255);
  const C1 = (0.01 * 255) ** 2;
  const C2 = (0.03 * 255) ** 2;
  let channelSum = 0;
  for (let c = 0; c < 3; c++) {
    let sum = 0;
    let count = 0;
    for (let y = 0; y + size <= h; y++) {
      for (let x = 0; x + size <= w; x++) {
        let mx = 0, my = 0, sxx = 0, syy = 0, sxy = 0;
        for (let i = 0; i < size; i++) {
          for (let j = 0; j < size; j++) {
            const g = win[i]![j]! / total;
            const u = q(a[((y + i) * w + x + j) * 3 + c]!);
            const v = q(b[((y + i) * w + x + j) * 3 + c]!);
            mx += g * u;
            my += g * v;
            sxx += g * u * u;
            syy += g * v * v;
            sxy += g * u * v;
          }
        }
        const vx = sxx - mx * mx;
        const vy = syy - my * my;
        const cxy = sxy - mx * my;
        sum += ((2 * mx * my + C1) * (2 * cxy + C2)) / ((mx * mx + my * my + C1) * (vx + vy + C2));
        count++;
      }
    }
    channelSum += sum / count;
  }
  return channelSum / 3;
}

test('quantisation is round(clamp(x)*255) and identical in JS and tfjs', () => {
  const values = [-0.2, 0, 0.5, 126.5 / 255, 1 / 510, 0.999, 1, 1.7, 100 / 255, 0.123456];
  assert.deepEqual(values.slice(0, 3).map(quantize8), [0, 0, 128]);
  assert.equal(quantize8(1.7), 255);
  const t = tf.tensor1d(values);
  const q = quantize8Tf(t);
  assert.deepEqual(Array.from(q.dataSync()), values.map(quantize8));
  tf.dispose([t, q]);
});

test('PSNR of a constant offset computed by hand', () => {
  const a = constant(8, 8, 100 / 255);
  const b = constant(8, 8, 110 / 255);
  // MSE = 10^2 = 100 on the 0-255 scale → 10·log10(255² / 100)
  const expected = 10 * Math.log10((255 * 255) / 100);
  assert.ok(Math.abs(expected - 28.1308) < 1e-4);
  assert.ok(Math.abs(psnr(a, b) - expected) < 1e-9);
  assert.equal(psnr(a, a), Infinity);
  // values beyond [0, 1] clip before measuring
  assert.equal(psnr(constant(2, 2, 1.5), constant(2, 2, 1)), Infinity);
  // unquantised: peak 1
  assert.ok(Math.abs(psnr(constant(2, 2, 0.5), constant(2, 2, 0.6), { quantize: false }) - 20) < 1e-5);
  const ta = tf.tensor4d(a, [1, 8, 8, 3]);
  const tb = tf.tensor4d(b, [1, 8, 8, 3]);
  const p = psnrTf(ta, tb);
  assert.ok(Math.abs(p.dataSync()[0]! - expected) < 1e-3);
  tf.dispose([ta, tb, p]);
});

test('SSIM: identical images give 1, constant images match the closed form', () => {
  const img = smoothPatch(mulberry32(3), 24);
  assert.ok(Math.abs(ssim(img, img, { height: 24, width: 24, channels: 3 }) - 1) < 1e-12);
  // Two flat images: the structure/contrast term is C2/C2 = 1, so SSIM = (2·100·110 + C1) / (100² + 110² + C1).
  const C1 = (0.01 * 255) ** 2;
  const expected = (2 * 100 * 110 + C1) / (100 * 100 + 110 * 110 + C1);
  const got = ssim(constant(16, 16, 100 / 255), constant(16, 16, 110 / 255), { height: 16, width: 16, channels: 3 });
  assert.ok(Math.abs(got - expected) < 1e-12, `${got} vs ${expected}`);
});

test('SSIM matches an independent straightforward implementation', () => {
  const h = 23;
  const w = 19;
  const clean = smoothPatch(mulberry32(5), 23).subarray(0, h * w * 3);
  const degraded = noisy(clean, 0.15, 9);
  const ours = ssim(clean, degraded, { height: h, width: w, channels: 3 });
  const reference = referenceSsim(clean, degraded, h, w);
  assert.ok(ours > 0.1 && ours < 0.99, `ssim ${ours}`);
  assert.ok(Math.abs(ours - reference) < 1e-9, `${ours} vs ${reference}`);
});

test('tfjs PSNR/SSIM agree with the plain-JS versions per image', () => {
  const h = 20;
  const w = 24;
  const n = 3;
  const size = h * w * 3;
  const a = new Float32Array(n * size);
  const b = new Float32Array(n * size);
  for (let i = 0; i < n; i++) {
    const clean = smoothPatch(mulberry32(10 + i), 24).subarray(0, size);
    a.set(clean, i * size);
    b.set(noisy(clean, 0.05 * (i + 1), 20 + i), i * size);
  }
  const js = batchMetrics(b, a, { batch: n, height: h, width: w, channels: 3 });
  const ta = tf.tensor4d(a, [n, h, w, 3]);
  const tb = tf.tensor4d(b, [n, h, w, 3]);
  const p = psnrTf(tb, ta).dataSync();
  const s = ssimTf(tb, ta, { quantize: true }).dataSync();
  for (let i = 0; i < n; i++) {
    assert.ok(Math.abs(p[i]! - js.psnr[i]!) < 1e-3, `psnr ${p[i]} vs ${js.psnr[i]}`);
    assert.ok(Math.abs(s[i]! - js.ssim[i]!) < 1e-3, `ssim ${s[i]} vs ${js.ssim[i]}`);
  }
  assert.ok(js.psnr[0]! > js.psnr[2]!);
  tf.dispose([ta, tb]);
});

test('losses: values by hand and a finite SSIM-mix gradient', () => {
  tf.tidy(() => {
    const p = tf.tensor4d([0.5, 0.5, 0.5, 0.5], [1, 2, 2, 1]);
    const t = tf.tensor4d([0.5, 0.7, 0.5, 0.1], [1, 2, 2, 1]);
    assert.ok(Math.abs(mseLoss(p, t).dataSync()[0]! - (0.04 + 0.16) / 4) < 1e-7);
    assert.ok(Math.abs(l1Loss(p, t).dataSync()[0]! - (0.2 + 0.4) / 4) < 1e-7);
    const eps = 1e-3;
    const ch = (2 * eps + Math.sqrt(0.04 + eps * eps) + Math.sqrt(0.16 + eps * eps)) / 4;
    assert.ok(Math.abs(charbonnierLoss(p, t, eps).dataSync()[0]! - ch) < 1e-6);
    const x = tf.randomUniform([2, 16, 16, 3]) as tf.Tensor4D;
    const y = tf.randomUniform([2, 16, 16, 3]) as tf.Tensor4D;
    assert.ok(Math.abs(ssimMixLoss(y, y).dataSync()[0]!) < 1e-5);
    const g = tf.grad((z: tf.Tensor) => ssimMixLoss(z as tf.Tensor4D, y))(x);
    assert.ok(g.dataSync().every((v) => Number.isFinite(v)));
    assert.ok(tf.sum(tf.abs(g)).dataSync()[0]! > 0);
  });
});
