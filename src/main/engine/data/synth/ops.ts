// The degradation operations, each on a float RGB HWC image with explicit parameters. Recipes
// (./recipe.ts) draw the parameters from ranges with a seeded Rng and chain these.
// Conventions: every op may reuse the input buffer and returns the result; unless stated otherwise
// results are clipped to [0, 1]. Noise levels named sigma255 are on the 0–255 scale.
import sharp from 'sharp';
import type { Rng } from '../rng';
import { type RgbImage, fromUint8, toUint8 } from '../image';
import { type ResampleFilter, convolveSeparable, convolveSparse, gaussianBlur as blur, gaussianKernel, motionKernel, resize } from './filters';

function clip01(v: number): number {
  return v < 0 ? 0 : v > 1 ? 1 : v;
}

export function clipImage(image: RgbImage): RgbImage {
  const d = image.data;
  for (let i = 0; i < d.length; i++) d[i] = clip01(d[i]!);
  return image;
}

function luminance(d: Float32Array, i: number): number {
  return 0.299 * d[i]! + 0.587 * d[i + 1]! + 0.114 * d[i + 2]!;
}

// ── Noise ────────────────────────────────────────────────────────────────────────────────────────────

/** Additive white Gaussian noise, independent per channel. clip=false keeps values outside [0, 1] the way
 *  denoising benchmarks (DnCNN, FFDNet, DRUNet…) add it. */
export function gaussianNoise(image: RgbImage, rng: Rng, sigma255: number, clip = true): RgbImage {
  const d = image.data;
  const s = sigma255 / 255;
  if (s <= 0) return image;
  for (let i = 0; i < d.length; i++) d[i] = d[i]! + s * rng.normal();
  return clip ? clipImage(image) : image;
}

/** Shot noise: value = Poisson(value × peak) / peak, so `peak` is the photon count at white (smaller = noisier). */
export function poissonNoise(image: RgbImage, rng: Rng, peak: number): RgbImage {
  const d = image.data;
  for (let i = 0; i < d.length; i++) d[i] = clip01(rng.poisson(clip01(d[i]!) * peak) / peak);
  return image;
}

/** Multiplicative noise: value × (1 + n), n ~ N(0, sigma²) with sigma on the [0, 1] scale. */
export function speckleNoise(image: RgbImage, rng: Rng, sigma: number): RgbImage {
  const d = image.data;
  for (let i = 0; i < d.length; i++) d[i] = clip01(d[i]! * (1 + sigma * rng.normal()));
  return image;
}

/** Impulse noise: a fraction `amount` of pixels become white (probability `salt`) or black, all channels. */
export function saltPepper(image: RgbImage, rng: Rng, amount: number, salt = 0.5): RgbImage {
  const d = image.data;
  const pixels = image.width * image.height;
  const count = Math.round(pixels * amount);
  for (let k = 0; k < count; k++) {
    const p = rng.int(pixels) * 3;
    const v = rng.chance(salt) ? 1 : 0;
    d[p] = v;
    d[p + 1] = v;
    d[p + 2] = v;
  }
  return image;
}

/** Film grain: monochrome Gaussian grain blurred to `size` px, strongest in the mid-tones. */
export function filmGrain(image: RgbImage, rng: Rng, amount: number, size: number): RgbImage {
  const { width: w, height: h } = image;
  const field: RgbImage = { width: w, height: h, data: new Float32Array(w * h) };
  for (let i = 0; i < field.data.length; i++) field.data[i] = rng.normal();
  let grain = field.data;
  if (size > 0.3) {
    const k = gaussianKernel(size);
    grain = convolveSeparable(field, k, k, 1).data;
    // Blurring shrinks the std by the kernel's L2 norm (squared per axis); undo it so `amount` is the std.
    let l2 = 0;
    for (const v of k) l2 += v * v;
    const gain = 1 / l2;
    for (let i = 0; i < grain.length; i++) grain[i] = grain[i]! * gain;
  }
  const d = image.data;
  for (let p = 0, i = 0; p < grain.length; p++, i += 3) {
    const lum = clip01(luminance(d, i));
    const weight = 0.4 + 2.4 * lum * (1 - lum); // 0.4 at black/white, 1.0 at mid-grey
    const n = amount * weight * grain[p]!;
    d[i] = clip01(d[i]! + n);
    d[i + 1] = clip01(d[i + 1]! + n);
    d[i + 2] = clip01(d[i + 2]! + n);
  }
  return image;
}

// ── Blur and resolution ──────────────────────────────────────────────────────────────────────────────

export function gaussianBlur(image: RgbImage, sigma: number): RgbImage {
  return blur(image, sigma);
}

/** Linear motion blur of `length` px along `angleDeg` (0 = horizontal). */
export function motionBlur(image: RgbImage, length: number, angleDeg: number): RgbImage {
  if (length <= 1) return image;
  return convolveSparse(image, motionKernel(length, angleDeg));
}

/** Shrinks by `factor` with one filter and enlarges back to the original size with another. */
export function downscale(image: RgbImage, factor: number, down: ResampleFilter, up: ResampleFilter): RgbImage {
  if (factor <= 1) return image;
  const w = Math.max(1, Math.round(image.width / factor));
  const h = Math.max(1, Math.round(image.height / factor));
  const small = resize(image, w, h, down);
  return clipImage(resize(small, image.width, image.height, up));
}

/** Chroma subsampling of a JPEG: 4:2:0 (what cameras and most encoders write) or 4:4:4 (full colour). */
export type ChromaSubsampling = '4:2:0' | '4:4:4';

/** JPEG round trip at `quality` (1–100), through sharp/libjpeg. */
export async function jpeg(image: RgbImage, quality: number, chroma: ChromaSubsampling = '4:2:0'): Promise<RgbImage> {
  const q = Math.max(1, Math.min(100, Math.round(quality)));
  const { width, height } = image;
  const bytes = await sharp(toUint8(image), { raw: { width, height, channels: 3 } })
    .jpeg({ quality: q, chromaSubsampling: chroma })
    .toBuffer();
  const { data, info } = await sharp(bytes).raw().toBuffer({ resolveWithObject: true });
  if (info.channels !== 3 || info.width !== width || info.height !== height) throw new Error('JPEG round trip changed the image shape');
  return fromUint8(data, width, height);
}

/** Size in bytes of the JPEG encoding at `quality` (for tests and reports). */
export async function jpegSize(image: RgbImage, quality: number): Promise<number> {
  const { width, height } = image;
  const bytes = await sharp(toUint8(image), { raw: { width, height, channels: 3 } })
    .jpeg({ quality: Math.round(quality), chromaSubsampling: '4:2:0' })
    .toBuffer();
  return bytes.length;
}

// ── Colour and tone ──────────────────────────────────────────────────────────────────────────────────

/** Colour fading: saturation drops by `amount` and the tones wash towards paper white (blacks lift). */
export function fade(image: RgbImage, amount: number): RgbImage {
  const d = image.data;
  const desat = 0.85 * amount;
  const wash = 0.3 * amount;
  for (let i = 0; i < d.length; i += 3) {
    const lum = luminance(d, i);
    for (let c = 0; c < 3; c++) {
      const v = lum + (d[i + c]! - lum) * (1 - desat);
      d[i + c] = clip01(wash + v * (1 - wash));
    }
  }
  return image;
}

const PAPER_YELLOW = [1.0, 0.92, 0.68] as const;

/** Yellowing of the paper/emulsion: blue, then green, are absorbed; blacks take a warm tint. */
export function yellowing(image: RgbImage, amount: number): RgbImage {
  const d = image.data;
  const gain = PAPER_YELLOW.map((t) => 1 - amount * (1 - t));
  const lift = PAPER_YELLOW.map((t) => 0.06 * amount * t);
  for (let i = 0; i < d.length; i += 3) {
    for (let c = 0; c < 3; c++) d[i + c] = clip01(lift[c]! + d[i + c]! * gain[c]! * (1 - 0.06 * amount));
  }
  return image;
}

/** Sepia toning (the classic sepia matrix), blended with the original by `amount`. */
export function sepia(image: RgbImage, amount: number): RgbImage {
  const d = image.data;
  for (let i = 0; i < d.length; i += 3) {
    const r = d[i]!;
    const g = d[i + 1]!;
    const b = d[i + 2]!;
    const sr = Math.min(1, 0.393 * r + 0.769 * g + 0.189 * b);
    const sg = Math.min(1, 0.349 * r + 0.686 * g + 0.168 * b);
    const sb = Math.min(1, 0.272 * r + 0.534 * g + 0.131 * b);
    d[i] = r + amount * (sr - r);
    d[i + 1] = g + amount * (sg - g);
    d[i + 2] = b + amount * (sb - b);
  }
  return image;
}

/** Contrast loss: pulls every value towards the image's mean luminance by `amount` (0 = none, 1 = flat). */
export function contrast(image: RgbImage, amount: number): RgbImage {
  const d = image.data;
  let mean = 0;
  for (let i = 0; i < d.length; i += 3) mean += luminance(d, i);
  mean /= d.length / 3;
  const keep = 1 - amount;
  for (let i = 0; i < d.length; i++) d[i] = clip01(mean + (d[i]! - mean) * keep);
  return image;
}

/** Brightness shift by `delta` on the [0, 1] scale (negative darkens). */
export function brightness(image: RgbImage, delta: number): RgbImage {
  const d = image.data;
  for (let i = 0; i < d.length; i++) d[i] = clip01(d[i]! + delta);
  return image;
}

/** Vignetting: darkens towards the corners; `strength` is the loss at the corners, `radius` (0–1 of the
 *  half-diagonal) is where darkening starts. */
export function vignette(image: RgbImage, strength: number, radius: number, rng?: Rng): RgbImage {
  const { width: w, height: h, data: d } = image;
  // The optical centre is rarely the image centre in a scan of a print: jitter it a little.
  const cx = (w - 1) / 2 + (rng ? rng.uniform(-0.08, 0.08) * w : 0);
  const cy = (h - 1) / 2 + (rng ? rng.uniform(-0.08, 0.08) * h : 0);
  const hx = w / 2;
  const hy = h / 2;
  const r0 = Math.min(0.99, Math.max(0, radius));
  for (let y = 0; y < h; y++) {
    const ny = (y - cy) / hy;
    for (let x = 0; x < w; x++) {
      const nx = (x - cx) / hx;
      const r = Math.sqrt((nx * nx + ny * ny) / 2);
      let t = (r - r0) / (1 - r0);
      t = t <= 0 ? 0 : t >= 1 ? 1 : t * t * (3 - 2 * t);
      const f = 1 - strength * t;
      const i = (y * w + x) * 3;
      d[i] = d[i]! * f;
      d[i + 1] = d[i + 1]! * f;
      d[i + 2] = d[i + 2]! * f;
    }
  }
  return image;
}

/** Monochrome: the photo's luminance in all three channels (black-and-white prints and scans). */
export function monochrome(image: RgbImage): RgbImage {
  const d = image.data;
  for (let i = 0; i < d.length; i += 3) {
    const lum = luminance(d, i);
    d[i] = lum;
    d[i + 1] = lum;
    d[i + 2] = lum;
  }
  return image;
}

// ── Physical damage: ./damage.ts (each defect also marks where it was drawn) ─────────────────────────
export { blots, cracks, edgeWear, flakes, hairs, scratches } from './damage';
export type { BlotOptions, CrackOptions, EdgeWearOptions, HairOptions, ScratchOptions } from './damage';
