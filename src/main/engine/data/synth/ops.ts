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

// ── Physical damage ──────────────────────────────────────────────────────────────────────────────────

/** Damage counts are given per 512×512 pixels and scaled by the image's area, so crops and large scans
 *  get the same density. Fractions are rounded stochastically. */
function scaledCount(count: number, image: RgbImage, rng: Rng): number {
  const expected = (count * image.width * image.height) / (512 * 512);
  const whole = Math.floor(expected);
  return whole + (rng.chance(expected - whole) ? 1 : 0);
}

/** Paints soft discs into a coverage mask (max-combined). */
function stampDisc(mask: Float32Array, w: number, h: number, cx: number, cy: number, radius: number, alpha: number): void {
  const r = Math.max(0.35, radius);
  const x0 = Math.max(0, Math.floor(cx - r - 1));
  const x1 = Math.min(w - 1, Math.ceil(cx + r + 1));
  const y0 = Math.max(0, Math.floor(cy - r - 1));
  const y1 = Math.min(h - 1, Math.ceil(cy + r + 1));
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      const dist = Math.hypot(x - cx, y - cy);
      const cover = Math.min(1, Math.max(0, r + 0.5 - dist));
      const a = cover * alpha;
      const p = y * w + x;
      if (a > mask[p]!) mask[p] = a;
    }
  }
}

/** Blends `tone` (per-pixel grey level) into the image through the mask. */
function composite(image: RgbImage, mask: Float32Array, tone: Float32Array): void {
  const d = image.data;
  for (let p = 0, i = 0; p < mask.length; p++, i += 3) {
    const a = mask[p]!;
    if (a <= 0) continue;
    const t = tone[p]!;
    d[i] = d[i]! * (1 - a) + t * a;
    d[i + 1] = d[i + 1]! * (1 - a) + t * a;
    d[i + 2] = d[i + 2]! * (1 - a) + t * a;
  }
}

export interface ScratchOptions {
  /** Scratches per 512×512 area. */
  count: number;
  /** Width range in px. */
  width: [number, number];
  /** Opacity range. */
  opacity: [number, number];
}

/** Scratches: long thin curves, mostly near-vertical (film transport) or at random angles (print handling),
 *  mostly bright (emulsion removed shows the white base), fading in and out along their length. */
export function scratches(image: RgbImage, rng: Rng, opts: ScratchOptions): RgbImage {
  const { width: w, height: h } = image;
  const n = scaledCount(opts.count, image, rng);
  if (n === 0) return image;
  const mask = new Float32Array(w * h);
  const tone = new Float32Array(w * h);
  const toneMask = new Float32Array(w * h);
  for (let s = 0; s < n; s++) {
    const vertical = rng.chance(0.65);
    const angle = vertical ? Math.PI / 2 + rng.uniform(-0.25, 0.25) : rng.uniform(0, Math.PI);
    const length = rng.uniform(0.25, 1.1) * Math.max(w, h);
    const sx = rng.uniform(0, w);
    const sy = rng.uniform(0, h);
    const ex = sx + Math.cos(angle) * length;
    const ey = sy + Math.sin(angle) * length;
    const bend = rng.uniform(-0.12, 0.12) * length;
    const mx = (sx + ex) / 2 - Math.sin(angle) * bend;
    const my = (sy + ey) / 2 + Math.cos(angle) * bend;
    const width = rng.uniform(opts.width[0], opts.width[1]);
    const opacity = rng.uniform(opts.opacity[0], opts.opacity[1]);
    const bright = rng.chance(0.75);
    const level = bright ? rng.uniform(0.85, 1) : rng.uniform(0, 0.2);
    toneMask.fill(0);
    const steps = Math.ceil(length * 2);
    for (let k = 0; k <= steps; k++) {
      const t = k / steps;
      const u = 1 - t;
      const px = u * u * sx + 2 * u * t * mx + t * t * ex;
      const py = u * u * sy + 2 * u * t * my + t * t * ey;
      if (px < -width - 2 || py < -width - 2 || px > w + width + 2 || py > h + width + 2) continue;
      const along = Math.min(1, 6 * t * (1 - t) + 0.2); // fades at both ends
      stampDisc(toneMask, w, h, px, py, width / 2, opacity * along);
    }
    for (let p = 0; p < mask.length; p++) {
      const a = toneMask[p]!;
      if (a > mask[p]!) {
        mask[p] = a;
        tone[p] = level;
      }
    }
  }
  composite(image, mask, tone);
  return image;
}

export interface BlotOptions {
  /** Blots per 512×512 area. */
  count: number;
  /** Radius range in px. */
  radius: [number, number];
  /** Opacity range. */
  opacity: [number, number];
  /** Probability that a blot is dark (dust on a scanner) rather than bright (a white speck on a print). */
  dark: number;
}

/** Dust and specks: irregular soft blots made of a few overlapping discs. */
export function blots(image: RgbImage, rng: Rng, opts: BlotOptions): RgbImage {
  const { width: w, height: h } = image;
  const n = scaledCount(opts.count, image, rng);
  if (n === 0) return image;
  const mask = new Float32Array(w * h);
  const tone = new Float32Array(w * h);
  const one = new Float32Array(w * h);
  for (let s = 0; s < n; s++) {
    const cx = rng.uniform(0, w);
    const cy = rng.uniform(0, h);
    const radius = rng.uniform(opts.radius[0], opts.radius[1]);
    const opacity = rng.uniform(opts.opacity[0], opts.opacity[1]);
    const level = rng.chance(opts.dark) ? rng.uniform(0, 0.15) : rng.uniform(0.85, 1);
    const lobes = radius > 1.2 ? rng.intBetween(1, 3) : 1;
    // Touch only the blot's bounding box.
    const reach = radius * 2 + 2;
    const x0 = Math.max(0, Math.floor(cx - reach));
    const x1 = Math.min(w - 1, Math.ceil(cx + reach));
    const y0 = Math.max(0, Math.floor(cy - reach));
    const y1 = Math.min(h - 1, Math.ceil(cy + reach));
    for (let y = y0; y <= y1; y++) one.fill(0, y * w + x0, y * w + x1 + 1);
    for (let l = 0; l < lobes; l++) {
      const ox = l === 0 ? 0 : rng.uniform(-radius, radius);
      const oy = l === 0 ? 0 : rng.uniform(-radius, radius);
      stampDisc(one, w, h, cx + ox, cy + oy, radius * (l === 0 ? 1 : rng.uniform(0.4, 0.8)), opacity);
    }
    for (let y = y0; y <= y1; y++) {
      for (let x = x0; x <= x1; x++) {
        const p = y * w + x;
        const a = one[p]!;
        if (a > mask[p]!) {
          mask[p] = a;
          tone[p] = level;
        }
      }
    }
  }
  composite(image, mask, tone);
  return image;
}
