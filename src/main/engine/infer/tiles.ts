// Restoring images of any size with a fully convolutional model: overlapping tiles, blended without seams.
//
// Each axis is cut into "cores" that partition it; a tile is its core grown by `overlap` pixels on each side
// (clamped to the image). Around every core boundary, the two neighbours are cross-faded over a band of
// ±overlap/2 pixels with linear weights that sum to one. Every pixel in that band lies at least overlap/2
// pixels inside both tiles, so as long as the model's receptive radius is at most overlap/2, each tile's
// output there equals the whole-image output and the blend is exact; the cross-fade hides any residual
// difference when it is not. Memory is bounded by the tile, not the image.
//
// Upscalers (scale S > 1) give S x S output pixels per input pixel. Tiles are still planned and overlap in
// input pixels; the output is stitched at S x the size, each output pixel weighted by where its centre falls
// in input coordinates ((q + 0.5) / S), so the same cross-fade applies at any scale.
import * as tf from '@tensorflow/tfjs-core';
import type { RgbImage } from '../data/image';
import { StudioError, throwIfAborted } from '#shared/rpc/errors';

export interface AxisSegment {
  /** The region fed to the model: [start, end). */
  start: number;
  end: number;
  /** The core this tile owns: [coreStart, coreEnd). */
  coreStart: number;
  coreEnd: number;
}

export interface TileOptions {
  /** Tile edge in pixels (the model sees at most tile x tile, before padding to `multiple`). */
  tile: number;
  /** Context added on each side of a core; the model's receptive radius should be at most overlap/2. */
  overlap: number;
  /** The model needs input sides that are multiples of this (pooling); tiles are mirror-padded to it. */
  multiple?: number;
  /** Output pixels per input pixel along each axis (an upscaler's factor); default 1. */
  scale?: number;
  signal?: AbortSignal;
  /** Called after each tile with the fraction done. */
  onProgress?: (fraction: number) => void;
  /** Awaited before each tile (a batch job waits here while paused). */
  beforeTile?: () => Promise<void>;
}

/** A model as the tiler sees it: NHWC float in [0,1] → NHWC float of the same size, or scale x it. */
export type TileModel = (input: tf.Tensor4D) => tf.Tensor4D;

/**
 * Cuts one axis into tiles. With `multiple` > 1 every tile starts on a multiple of it, so pooling layers see
 * the same grid in a tile as in the whole image.
 */
export function planAxis(length: number, tile: number, overlap: number, multiple = 1): AxisSegment[] {
  if (length <= tile) return [{ start: 0, end: length, coreStart: 0, coreEnd: length }];
  overlap = Math.ceil(overlap / multiple) * multiple;
  const core = tile - 2 * overlap;
  if (core < Math.max(8, multiple)) {
    throw new RangeError(`Tile ${tile} is too small for an overlap of ${overlap} (needs a core of at least 8 pixels).`);
  }
  const count = Math.ceil(length / core);
  const snap = (v: number): number => Math.round(v / multiple) * multiple;
  const bounds = Array.from({ length: count + 1 }, (_, i) => (i === count ? length : snap((i * length) / count)));
  return bounds.slice(0, -1).map((coreStart, i) => {
    const coreEnd = bounds[i + 1]!;
    return { start: Math.max(0, coreStart - overlap), end: Math.min(length, coreEnd + overlap), coreStart, coreEnd };
  });
}

/**
 * Blend weight of a segment at output coordinate p of an axis `length` input pixels long, output `scale` x
 * that; the pixel's centre in input coordinates is (p + 0.5) / scale. Neighbours' weights sum to 1.
 */
export function axisWeight(segment: AxisSegment, p: number, length: number, feather: number, scale = 1): number {
  const centre = (p + 0.5) / scale;
  let w = 1;
  if (segment.coreStart > 0) {
    w = Math.min(w, feather === 0 ? (centre >= segment.coreStart ? 1 : 0) : clamp01((centre - (segment.coreStart - feather)) / (2 * feather)));
  }
  if (segment.coreEnd < length) {
    w = Math.min(w, feather === 0 ? (centre < segment.coreEnd ? 1 : 0) : clamp01((segment.coreEnd + feather - centre) / (2 * feather)));
  }
  return w;
}

/** The run [start, end) of weights equal to 1 (one contiguous run: the tile's core away from the cross-fades). */
function fullRange(weights: Float32Array): [number, number] {
  const start = weights.indexOf(1);
  if (start < 0) return [0, 0];
  let end = start;
  while (end < weights.length && weights[end] === 1) end++;
  return [start, end];
}

function clamp01(x: number): number {
  return x < 0 ? 0 : x > 1 ? 1 : x;
}

/** Half-width of the cross-fade band restoreTiled uses for these segments (exported for band-wise callers). */
export function featherFor(segments: AxisSegment[], overlap: number): number {
  const smallestCore = Math.min(...segments.map((s) => s.coreEnd - s.coreStart));
  return Math.max(0, Math.min(Math.floor(overlap / 2), Math.floor(smallestCore / 2)));
}

function copyRegion(image: RgbImage, x0: number, y0: number, w: number, h: number): Float32Array {
  const out = new Float32Array(w * h * 3);
  for (let y = 0; y < h; y++) {
    const from = ((y0 + y) * image.width + x0) * 3;
    out.set(image.data.subarray(from, from + w * 3), y * w * 3);
  }
  return out;
}

/**
 * Runs the model on one region, mirror-padded up to `multiple`, and returns the region's output pixels
 * (h·scale x w·scale). An output of another size is an error: stitching it would misplace every pixel.
 */
export async function runRegion(model: TileModel, pixels: Float32Array, w: number, h: number, multiple: number, scale: number): Promise<Float32Array> {
  const padH = (multiple - (h % multiple)) % multiple;
  const padW = (multiple - (w % multiple)) % multiple;
  const output = tf.tidy(() => {
    let x = tf.tensor4d(pixels, [1, h, w, 3]);
    if (padH || padW) x = tf.mirrorPad(x, [[0, 0], [0, padH], [0, padW], [0, 0]], 'symmetric');
    let y = model(x);
    const [, outH, outW] = y.shape;
    if (outH !== (h + padH) * scale || outW !== (w + padW) * scale) {
      throw new StudioError('MODEL_INVALID', `The model turned a ${h + padH}x${w + padW} tile into ${outH}x${outW}; ${scale}x that was expected.`);
    }
    if (padH || padW) y = tf.slice(y, [0, 0, 0, 0], [1, h * scale, w * scale, 3]);
    return y;
  });
  try {
    return (await output.data()) as Float32Array;
  } finally {
    output.dispose();
  }
}

/** Restores a whole image tile by tile; the result has the input's size times the scale. */
export async function restoreTiled(model: TileModel, image: RgbImage, options: TileOptions): Promise<RgbImage> {
  const { width, height } = image;
  const multiple = options.multiple ?? 1;
  const scale = options.scale ?? 1;
  const rows = planAxis(height, options.tile, options.overlap, multiple);
  const cols = planAxis(width, options.tile, options.overlap, multiple);
  const featherY = featherFor(rows, options.overlap);
  const featherX = featherFor(cols, options.overlap);
  const outWidth = width * scale;
  const out = new Float32Array(outWidth * height * scale * 3);
  const total = rows.length * cols.length;
  let done = 0;
  for (const row of rows) {
    const h = row.end - row.start;
    const outH = h * scale;
    const wy = Float32Array.from({ length: outH }, (_, i) => axisWeight(row, row.start * scale + i, height, featherY, scale));
    for (const col of cols) {
      if (options.beforeTile) await options.beforeTile();
      throwIfAborted(options.signal);
      const w = col.end - col.start;
      const outW = w * scale;
      const wx = Float32Array.from({ length: outW }, (_, i) => axisWeight(col, col.start * scale + i, width, featherX, scale));
      const result = await runRegion(model, copyRegion(image, col.start, row.start, w, h), w, h, multiple, scale);
      const [full0, full1] = fullRange(wx);
      for (let y = 0; y < outH; y++) {
        const weightY = wy[y]!;
        if (weightY === 0) continue;
        const dst = ((row.start * scale + y) * outWidth + col.start * scale) * 3;
        const src = y * outW * 3;
        // Where this tile's weight is 1 every other tile's is 0 (the weights sum to 1), so the output there is
        // still 0 and the tile's pixels are copied as they are: most of every tile, at a fraction of the cost.
        const copyFrom = weightY === 1 ? full0 : outW;
        const copyTo = weightY === 1 ? full1 : outW;
        if (copyTo > copyFrom) out.set(result.subarray(src + copyFrom * 3, src + copyTo * 3), dst + copyFrom * 3);
        for (let x = 0; x < outW; x++) {
          if (x === copyFrom) x = copyTo;
          if (x >= outW) break;
          const weight = weightY * wx[x]!;
          if (weight === 0) continue;
          for (let c = 0; c < 3; c++) out[dst + x * 3 + c]! += weight * result[src + x * 3 + c]!;
        }
      }
      options.onProgress?.(++done / total);
    }
  }
  return { width: outWidth, height: height * scale, data: out };
}

/**
 * A tile edge that fits the memory budget: activations cost about `bytesPerPixel` per input pixel (the
 * model's widest layers, float32, a few alive at once). Rounded down to a multiple of 64, within [128, 2048].
 */
export function chooseTileSize(bytesPerPixel: number, budgetBytes: number): number {
  const edge = Math.sqrt(budgetBytes / Math.max(1, bytesPerPixel));
  return Math.max(128, Math.min(2048, Math.floor(edge / 64) * 64));
}
