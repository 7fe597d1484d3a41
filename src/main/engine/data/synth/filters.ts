// Float convolution and resampling on RGB HWC buffers. Done in JS rather than sharp so values stay float
// (sharp would quantise to 8 bits) and results are identical on every machine. Borders mirror the image.
import { type RgbImage, createImage } from '../image';

/** Mirrors an out-of-range index back into [0, n) (…2 1 | 0 1 2 … n-1 | n-2 …). */
export function reflectIndex(i: number, n: number): number {
  if (n === 1) return 0;
  const period = 2 * (n - 1);
  let k = i % period;
  if (k < 0) k += period;
  return k < n ? k : period - k;
}

/** Normalised 1-D Gaussian kernel with radius ceil(3 sigma). */
export function gaussianKernel(sigma: number): Float32Array {
  const radius = Math.max(1, Math.ceil(3 * sigma));
  const k = new Float32Array(2 * radius + 1);
  let sum = 0;
  for (let i = -radius; i <= radius; i++) {
    const v = Math.exp(-(i * i) / (2 * sigma * sigma));
    k[i + radius] = v;
    sum += v;
  }
  for (let i = 0; i < k.length; i++) k[i] = k[i]! / sum;
  return k;
}

/** Separable convolution of every channel with the same odd-length kernels along x and y. */
export function convolveSeparable(
  image: RgbImage,
  kernelX: Float32Array,
  kernelY: Float32Array,
  channels = 3,
): RgbImage {
  const { width: w, height: h } = image;
  const src = image.data;
  const tmp = new Float32Array(src.length);
  const out = new Float32Array(src.length);
  const rx = (kernelX.length - 1) >> 1;
  const ry = (kernelY.length - 1) >> 1;
  // Horizontal pass through a padded row so the inner loop has no branches.
  const padded = new Float32Array((w + 2 * rx) * channels);
  for (let y = 0; y < h; y++) {
    const rowStart = y * w * channels;
    for (let x = -rx; x < w + rx; x++) {
      const sx = reflectIndex(x, w);
      for (let c = 0; c < channels; c++) padded[(x + rx) * channels + c] = src[rowStart + sx * channels + c]!;
    }
    const taps = kernelX.length;
    if (channels === 3) {
      for (let x = 0; x < w; x++) {
        let r = 0;
        let g = 0;
        let b = 0;
        let p = x * 3;
        for (let k = 0; k < taps; k++, p += 3) {
          const wk = kernelX[k]!;
          r += wk * padded[p]!;
          g += wk * padded[p + 1]!;
          b += wk * padded[p + 2]!;
        }
        const d = rowStart + x * 3;
        tmp[d] = r;
        tmp[d + 1] = g;
        tmp[d + 2] = b;
      }
    } else {
      for (let x = 0; x < w; x++) {
        for (let c = 0; c < channels; c++) {
          let acc = 0;
          let p = x * channels + c;
          for (let k = 0; k < taps; k++, p += channels) acc += kernelX[k]! * padded[p]!;
          tmp[rowStart + x * channels + c] = acc;
        }
      }
    }
  }
  // Vertical pass: for each output row, the source rows' offsets; one write per output value.
  const rowLen = w * channels;
  const tapsY = kernelY.length;
  const offsets = new Int32Array(tapsY);
  for (let y = 0; y < h; y++) {
    const dst = y * rowLen;
    for (let k = 0; k < tapsY; k++) offsets[k] = reflectIndex(y + k - ry, h) * rowLen;
    for (let i = 0; i < rowLen; i++) {
      let acc = 0;
      for (let k = 0; k < tapsY; k++) acc += kernelY[k]! * tmp[offsets[k]! + i]!;
      out[dst + i] = acc;
    }
  }
  return { width: w, height: h, data: out };
}

export function gaussianBlur(image: RgbImage, sigma: number): RgbImage {
  if (sigma <= 0) return image;
  const k = gaussianKernel(sigma);
  return convolveSeparable(image, k, k);
}

export interface SparseTap {
  dx: number;
  dy: number;
  w: number;
}

/** Convolution with a sparse 2-D kernel (a few taps, e.g. a motion-blur line). */
export function convolveSparse(image: RgbImage, taps: SparseTap[]): RgbImage {
  const { width: w, height: h } = image;
  const src = image.data;
  const out = new Float32Array(src.length);
  const xIndex = new Int32Array(w);
  for (const tap of taps) {
    for (let x = 0; x < w; x++) xIndex[x] = reflectIndex(x + tap.dx, w) * 3;
    for (let y = 0; y < h; y++) {
      const srcRow = reflectIndex(y + tap.dy, h) * w * 3;
      const dstRow = y * w * 3;
      for (let x = 0; x < w; x++) {
        const s = srcRow + xIndex[x]!;
        const d = dstRow + x * 3;
        out[d] = out[d]! + tap.w * src[s]!;
        out[d + 1] = out[d + 1]! + tap.w * src[s + 1]!;
        out[d + 2] = out[d + 2]! + tap.w * src[s + 2]!;
      }
    }
  }
  return { width: w, height: h, data: out };
}

/** The kernel of a straight camera shake: an anti-aliased line of `length` px at `angleDeg`, normalised. */
export function motionKernel(length: number, angleDeg: number): SparseTap[] {
  const len = Math.max(1, length);
  const theta = (angleDeg * Math.PI) / 180;
  const cos = Math.cos(theta);
  const sin = Math.sin(theta);
  const weights = new Map<string, SparseTap>();
  const samples = Math.max(2, Math.ceil(len * 4));
  for (let i = 0; i < samples; i++) {
    const t = (i / (samples - 1) - 0.5) * (len - 1);
    const px = t * cos;
    const py = t * sin;
    // Bilinear splat of the sample onto the four nearest taps.
    const x0 = Math.floor(px);
    const y0 = Math.floor(py);
    const fx = px - x0;
    const fy = py - y0;
    const add = (dx: number, dy: number, wgt: number): void => {
      if (wgt <= 0) return;
      const key = `${dx},${dy}`;
      const tap = weights.get(key);
      if (tap) tap.w += wgt;
      else weights.set(key, { dx, dy, w: wgt });
    };
    add(x0, y0, (1 - fx) * (1 - fy));
    add(x0 + 1, y0, fx * (1 - fy));
    add(x0, y0 + 1, (1 - fx) * fy);
    add(x0 + 1, y0 + 1, fx * fy);
  }
  const taps = [...weights.values()].filter((t) => t.w > 1e-6);
  const total = taps.reduce((s, t) => s + t.w, 0);
  for (const t of taps) t.w /= total;
  return taps;
}

export type ResampleFilter = 'nearest' | 'bilinear' | 'bicubic' | 'area' | 'lanczos';

interface FilterDef {
  support: number;
  fn: (x: number) => number;
}

const FILTERS: Record<Exclude<ResampleFilter, 'nearest'>, FilterDef> = {
  area: { support: 0.5, fn: (x) => (x >= -0.5 && x < 0.5 ? 1 : 0) },
  bilinear: { support: 1, fn: (x) => Math.max(0, 1 - Math.abs(x)) },
  bicubic: {
    support: 2,
    fn: (x) => {
      // Keys cubic with a = -0.5 (what MATLAB imresize and PIL use).
      const a = -0.5;
      const t = Math.abs(x);
      if (t <= 1) return ((a + 2) * t - (a + 3)) * t * t + 1;
      if (t < 2) return ((a * t - 5 * a) * t + 8 * a) * t - 4 * a;
      return 0;
    },
  },
  lanczos: {
    support: 3,
    fn: (x) => {
      if (x === 0) return 1;
      if (Math.abs(x) >= 3) return 0;
      const px = Math.PI * x;
      return (3 * Math.sin(px) * Math.sin(px / 3)) / (px * px);
    },
  },
};

interface Contributions {
  starts: Int32Array;
  counts: Int32Array;
  indices: Int32Array;
  weights: Float32Array;
  maxCount: number;
}

function contributions(inSize: number, outSize: number, filter: ResampleFilter): Contributions {
  const scale = outSize / inSize;
  if (filter === 'nearest') {
    const indices = new Int32Array(outSize);
    for (let o = 0; o < outSize; o++) indices[o] = Math.min(inSize - 1, Math.floor((o + 0.5) / scale));
    const starts = new Int32Array(outSize).map((_, i) => i);
    return { starts, counts: new Int32Array(outSize).fill(1), indices, weights: new Float32Array(outSize).fill(1), maxCount: 1 };
  }
  const def = FILTERS[filter];
  // When shrinking, stretch the filter so it integrates over every input pixel it covers (antialiasing).
  const stretch = scale < 1 ? 1 / scale : 1;
  const support = def.support * stretch;
  const maxCount = Math.ceil(support * 2) + 2;
  const starts = new Int32Array(outSize);
  const counts = new Int32Array(outSize);
  const indices = new Int32Array(outSize * maxCount);
  const weights = new Float32Array(outSize * maxCount);
  for (let o = 0; o < outSize; o++) {
    const center = (o + 0.5) / scale - 0.5;
    const lo = Math.floor(center - support);
    const hi = Math.ceil(center + support);
    let n = 0;
    let sum = 0;
    const base = o * maxCount;
    for (let i = lo; i <= hi && n < maxCount; i++) {
      const wgt = def.fn((i - center) / stretch);
      if (wgt === 0) continue;
      indices[base + n] = reflectIndex(i, inSize);
      weights[base + n] = wgt;
      sum += wgt;
      n++;
    }
    if (n === 0 || sum === 0) {
      indices[base] = Math.min(inSize - 1, Math.max(0, Math.round(center)));
      weights[base] = 1;
      n = 1;
      sum = 1;
    }
    for (let k = 0; k < n; k++) weights[base + k] = weights[base + k]! / sum;
    starts[o] = base;
    counts[o] = n;
  }
  return { starts, counts, indices, weights, maxCount };
}

/** Resizes with a separable filter (antialiased when shrinking). Pixel centres are aligned like PIL/MATLAB. */
export function resize(image: RgbImage, outWidth: number, outHeight: number, filter: ResampleFilter): RgbImage {
  const { width: w, height: h, data: src } = image;
  if (outWidth === w && outHeight === h) return image;
  const cx = contributions(w, outWidth, filter);
  const cy = contributions(h, outHeight, filter);
  // Horizontal: h rows × outWidth.
  const tmp = new Float32Array(h * outWidth * 3);
  for (let y = 0; y < h; y++) {
    const srcRow = y * w * 3;
    const dstRow = y * outWidth * 3;
    for (let o = 0; o < outWidth; o++) {
      const base = cx.starts[o]!;
      const n = cx.counts[o]!;
      let r = 0;
      let g = 0;
      let b = 0;
      for (let k = 0; k < n; k++) {
        const s = srcRow + cx.indices[base + k]! * 3;
        const wgt = cx.weights[base + k]!;
        r += wgt * src[s]!;
        g += wgt * src[s + 1]!;
        b += wgt * src[s + 2]!;
      }
      const d = dstRow + o * 3;
      tmp[d] = r;
      tmp[d + 1] = g;
      tmp[d + 2] = b;
    }
  }
  const out = createImage(outWidth, outHeight);
  const rowLen = outWidth * 3;
  for (let o = 0; o < outHeight; o++) {
    const base = cy.starts[o]!;
    const n = cy.counts[o]!;
    const dst = o * rowLen;
    for (let k = 0; k < n; k++) {
      const srcRow = cy.indices[base + k]! * rowLen;
      const wgt = cy.weights[base + k]!;
      for (let i = 0; i < rowLen; i++) out.data[dst + i] = out.data[dst + i]! + wgt * tmp[srcRow + i]!;
    }
  }
  return out;
}
