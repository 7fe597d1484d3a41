// PSNR and SSIM on RGB images as published restoration tables compute them, in plain JavaScript for
// evaluation. Images are Float32Array, HWC interleaved, values nominally in [0, 1].
//
// Choices (documented because tables differ):
//  - Both images are first quantised to 8 bits like a saved PNG: round(clamp(x, 0, 1) * 255), half rounded
//    up, with the product taken in float32 so the tfjs version (./tf-metrics) quantises bit-identically.
//    Pass { quantize: false } to measure the raw floats (then the data range is 1).
//  - PSNR = 10 log10(255^2 / MSE) with the MSE over all pixels and all channels (RGB, not Y). Identical images
//    give Infinity.
//  - SSIM: an 11x11 Gaussian window, sigma 1.5, K1 = 0.01, K2 = 0.03, L = 255; the SSIM map is computed only
//    where the window fits ('valid', as in Wang et al.'s reference code), averaged per channel, and the
//    channel means are averaged. Images smaller than 11 px use the largest odd window that fits.
import { gaussian1d, ssimWindowSize, SSIM_K1, SSIM_K2 } from './gaussian';

export interface ImageShape {
  height: number;
  width: number;
  channels: number;
}

export interface MetricOptions {
  /** Quantise to 8 bits first (default true). */
  quantize?: boolean;
}

/** round(clamp(x, 0, 1) * 255), computed in float32 arithmetic like the tfjs version. */
export function quantize8(x: number): number {
  const c = x < 0 ? 0 : x > 1 ? 1 : Number.isNaN(x) ? 0 : x;
  return Math.floor(Math.fround(Math.fround(Math.fround(c) * 255) + 0.5));
}

function prepare(a: Float32Array, quantize: boolean): Float64Array {
  const out = new Float64Array(a.length);
  if (quantize) for (let i = 0; i < a.length; i++) out[i] = quantize8(a[i]!);
  else for (let i = 0; i < a.length; i++) out[i] = a[i]!;
  return out;
}

function checkPair(a: Float32Array, b: Float32Array, shape?: ImageShape): void {
  if (a.length !== b.length) throw new RangeError(`Images differ in size (${a.length} vs ${b.length} values).`);
  if (shape && shape.height * shape.width * shape.channels !== a.length) {
    throw new RangeError(`Image shape ${shape.height}x${shape.width}x${shape.channels} does not match ${a.length} values.`);
  }
}

/** Sum of squared differences (quantised 0-255 values unless told) and how many values were summed, over
 *  the pixels where `mask` (one value per pixel) reaches `threshold`, or over all pixels without a mask. */
export function squaredError(
  a: Float32Array,
  b: Float32Array,
  options: MetricOptions & { mask?: ArrayLike<number>; threshold?: number; channels?: number } = {},
): { sum: number; count: number } {
  checkPair(a, b);
  const quantize = options.quantize ?? true;
  const { mask } = options;
  const channels = options.channels ?? 3;
  const threshold = options.threshold ?? 0.5;
  if (mask && mask.length * channels !== a.length) throw new RangeError(`The mask has ${mask.length} pixels for ${a.length / channels}.`);
  let sum = 0;
  let count = 0;
  for (let i = 0; i < a.length; i++) {
    if (mask && mask[Math.floor(i / channels)]! < threshold) continue;
    const d = quantize ? quantize8(a[i]!) - quantize8(b[i]!) : a[i]! - b[i]!;
    sum += d * d;
    count++;
  }
  return { sum, count };
}

/** Mean squared error on the (quantised, 0-255) values. */
export function mse(a: Float32Array, b: Float32Array, options: MetricOptions = {}): number {
  const { sum, count } = squaredError(a, b, options);
  return count === 0 ? 0 : sum / count;
}

/** PSNR in dB from a mean squared error (Infinity for 0). */
export function psnrFromMse(e: number, options: MetricOptions = {}): number {
  const peak = (options.quantize ?? true) ? 255 : 1;
  return e === 0 ? Infinity : 10 * Math.log10((peak * peak) / e);
}

/** PSNR in dB (Infinity for identical images). */
export function psnr(a: Float32Array, b: Float32Array, options: MetricOptions = {}): number {
  return psnrFromMse(mse(a, b, options), options);
}

/** Separable 'valid' Gaussian filtering of one channel plane (h x w) → (h-s+1) x (w-s+1). */
function filterValid(plane: Float64Array, h: number, w: number, win: Float64Array): Float64Array {
  const s = win.length;
  const ow = w - s + 1;
  const oh = h - s + 1;
  const tmp = new Float64Array(h * ow);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < ow; x++) {
      let acc = 0;
      for (let k = 0; k < s; k++) acc += win[k]! * plane[y * w + x + k]!;
      tmp[y * ow + x] = acc;
    }
  }
  const out = new Float64Array(oh * ow);
  for (let y = 0; y < oh; y++) {
    for (let x = 0; x < ow; x++) {
      let acc = 0;
      for (let k = 0; k < s; k++) acc += win[k]! * tmp[(y + k) * ow + x]!;
      out[y * ow + x] = acc;
    }
  }
  return out;
}

/** Mean SSIM of each channel. */
export function ssimPerChannel(a: Float32Array, b: Float32Array, shape: ImageShape, options: MetricOptions = {}): number[] {
  checkPair(a, b, shape);
  const quantize = options.quantize ?? true;
  const range = quantize ? 255 : 1;
  const c1 = (SSIM_K1 * range) ** 2;
  const c2 = (SSIM_K2 * range) ** 2;
  const { height: h, width: w, channels } = shape;
  const win = gaussian1d(ssimWindowSize(h, w));
  const qa = prepare(a, quantize);
  const qb = prepare(b, quantize);
  const result: number[] = [];
  const n = h * w;
  for (let c = 0; c < channels; c++) {
    const x = new Float64Array(n);
    const y = new Float64Array(n);
    const xx = new Float64Array(n);
    const yy = new Float64Array(n);
    const xy = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const u = qa[i * channels + c]!;
      const v = qb[i * channels + c]!;
      x[i] = u;
      y[i] = v;
      xx[i] = u * u;
      yy[i] = v * v;
      xy[i] = u * v;
    }
    const mx = filterValid(x, h, w, win);
    const my = filterValid(y, h, w, win);
    const sxx = filterValid(xx, h, w, win);
    const syy = filterValid(yy, h, w, win);
    const sxy = filterValid(xy, h, w, win);
    let sum = 0;
    for (let i = 0; i < mx.length; i++) {
      const ux = mx[i]!;
      const uy = my[i]!;
      const vx = sxx[i]! - ux * ux;
      const vy = syy[i]! - uy * uy;
      const cxy = sxy[i]! - ux * uy;
      sum += ((2 * ux * uy + c1) * (2 * cxy + c2)) / ((ux * ux + uy * uy + c1) * (vx + vy + c2));
    }
    result.push(sum / mx.length);
  }
  return result;
}

/** SSIM in [-1, 1] (1 for identical images): the mean of the per-channel SSIMs. */
export function ssim(a: Float32Array, b: Float32Array, shape: ImageShape, options: MetricOptions = {}): number {
  const perChannel = ssimPerChannel(a, b, shape, options);
  return perChannel.reduce((s, v) => s + v, 0) / perChannel.length;
}

/** PSNR and SSIM of each image of an NHWC batch, plus their means (PSNR mean over finite values, capped at `cap`). */
export function batchMetrics(
  a: Float32Array,
  b: Float32Array,
  shape: ImageShape & { batch: number },
  options: MetricOptions & { psnrCap?: number } = {},
): { psnr: number[]; ssim: number[]; meanPsnr: number; meanSsim: number } {
  const size = shape.height * shape.width * shape.channels;
  checkPair(a, b);
  if (size * shape.batch !== a.length) throw new RangeError(`Batch shape does not match ${a.length} values.`);
  const cap = options.psnrCap ?? 100;
  const p: number[] = [];
  const s: number[] = [];
  for (let i = 0; i < shape.batch; i++) {
    const ai = a.subarray(i * size, (i + 1) * size);
    const bi = b.subarray(i * size, (i + 1) * size);
    p.push(psnr(ai, bi, options));
    s.push(ssim(ai, bi, shape, options));
  }
  const mean = (v: number[]): number => (v.length ? v.reduce((x, y) => x + y, 0) / v.length : NaN);
  return { psnr: p, ssim: s, meanPsnr: mean(p.map((v) => Math.min(v, cap))), meanSsim: mean(s) };
}
