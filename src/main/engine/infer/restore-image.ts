// Restoring one image of any size with memory bounded by the tile, not the photo. Tiles are visited row by
// row (a row of tiles is a band), each tile's output is weighted with tiles.ts's cross-fade and added into a
// tile-sized window, and a piece of the output is handed to the sink as soon as no later tile can touch it:
// the columns left of the next tile's start, the rows above the next band's start. What is not final yet is
// carried: the window's right edge to the next tile, the band's bottom edge (the overlap rows, across the
// width) to the next band. So the result equals restoreTiled on the whole image up to float rounding, while
// the floats alive at once are a few tiles plus the overlap rows, and tensors are one tile; the input is read
// one tile at a time (for a photo on disk, from the disk).
// An upscaler's output (model.scale x the input) is stitched in output pixels: tiles and bands are planned
// in input pixels and cross-faded in output pixels (tiles.ts's axisWeight at that scale).
import { throwIfAborted } from '#shared/rpc/errors';
import { axisWeight, featherFor, planAxis, runRegion } from './tiles';
import type { RestoreModel } from './model';
import { fitBand, isOutOfMemory, planTiles, smallerTile, type TilePlan } from './memory';
import { RestoredPhoto, type OutputFormat, type Photo } from './photo';
import { type AutoToneOptions, applyTone, planTone } from './tone';
import { REPAIR_MAX_MEGAPIXELS, repairDamage, type RepairStage } from './repair';
import { regionOf, sampleForStatistics, statisticsSample, type PixelSource } from './pixel-source';

export { sampleForStatistics, type PixelSource };

export interface RestoreRowsOptions extends TilePlan {
  signal?: AbortSignal;
  /** Awaited before every tile: where a paused job waits. */
  beforeTile?: () => Promise<void>;
  /** Fraction of the image done, after every tile. */
  onProgress?: (fraction: number) => void;
}

/** Where restored pixels go, in output pixels (the input's times the model's scale). */
export interface RegionSink {
  /** Final output pixels of the rectangle at (x0, y0), w x h: h rows of w x 3 floats (nominally in [0, 1]); awaited. */
  region(x0: number, y0: number, w: number, h: number, pixels: Float32Array): void | Promise<void>;
  /** Every output row above `y` is final (all its regions were given): a sink that writes strips may write them. */
  rowsDone?(y: number): void | Promise<void>;
}

/** A sink that gathers whole output rows: for callers that want the restored image as one array. */
export function wholeImageSink(outWidth: number, out: Float32Array): RegionSink {
  return {
    region(x0, y0, w, h, pixels) {
      for (let y = 0; y < h; y++) out.set(pixels.subarray(y * w * 3, (y + 1) * w * 3), ((y0 + y) * outWidth + x0) * 3);
    },
  };
}

/**
 * An input tile [x0, x0 + w) x [y0, y0 + h) as floats in [0, 1]. Coordinates past the photo's edge repeat
 * its last column or row: only tiny photos, padded to the model's multiple, reach there.
 */
async function tileFloats(source: PixelSource, x0: number, y0: number, w: number, h: number): Promise<Float32Array> {
  const inside = await regionOf(source, x0, y0, w, h);
  const { width: iw, height: ih, channels, pixels } = inside;
  const scale = 1 / source.maxValue;
  const out = new Float32Array(w * h * 3);
  for (let y = 0; y < h; y++) {
    const row = Math.min(y, ih - 1) * iw;
    for (let x = 0; x < w; x++) {
      const src = (row + Math.min(x, iw - 1)) * channels;
      const dst = (y * w + x) * 3;
      out[dst] = pixels[src]! * scale;
      out[dst + 1] = pixels[src + 1]! * scale;
      out[dst + 2] = pixels[src + 2]! * scale;
    }
  }
  return out;
}

/** The last columns of a tile's window (all its rows): what is carried to the next tile of the band. */
interface Columns {
  columns: number;
  data: Float32Array;
}

/** Multiplies a tile's output (rows x columns x 3, in place) by its cross-fade weights, wy[row] * wx[column]. */
function weightTile(output: Float32Array, wy: Float32Array, wx: Float32Array): Float32Array {
  const width = wx.length;
  for (let y = 0; y < wy.length; y++) {
    const base = y * width * 3;
    for (let x = 0; x < width; x++) {
      const weight = wy[y]! * wx[x]!;
      if (weight === 1) continue;
      const p = base + x * 3;
      output[p] = weight * output[p]!;
      output[p + 1] = weight * output[p + 1]!;
      output[p + 2] = weight * output[p + 2]!;
    }
  }
  return output;
}

/** Adds carried columns into the first columns of a window `width` columns wide. */
function addColumns(window: Float32Array, width: number, left: Columns): void {
  const rows = left.data.length / (left.columns * 3);
  for (let y = 0; y < rows; y++) {
    const from = y * left.columns * 3;
    const to = y * width * 3;
    for (let k = 0; k < left.columns * 3; k++) window[to + k]! += left.data[from + k]!;
  }
}

/** The columns from `first` on of a window `width` columns wide, copied. */
function columnsFrom(window: Float32Array, width: number, first: number): Columns {
  const columns = width - first;
  const rows = window.length / (width * 3);
  const data = new Float32Array(rows * columns * 3);
  for (let y = 0; y < rows; y++) data.set(window.subarray((y * width + first) * 3, (y + 1) * width * 3), y * columns * 3);
  return { columns, data };
}

/** Output rows [y0, y0 + rows) of a full-width float buffer: what is carried from one band to the next. */
interface RowCarry {
  y0: number;
  rows: number;
  data: Float32Array;
}

/**
 * Restores `source` tile by tile into `sink`. The output is restoreTiled(model, wholeImage) up to float
 * rounding. Images smaller than the model's multiple are edge-extended first (mirror padding needs room).
 */
export async function restoreRows(model: RestoreModel, source: PixelSource, options: RestoreRowsOptions, sink: RegionSink): Promise<void> {
  // CPU backends resolve tile results as microtasks: without a real turn of the event loop between tiles,
  // Ctrl+C, cancel and pause messages would only be seen after the whole image.
  const beforeTile = async (): Promise<void> => {
    await new Promise<void>((resolve) => setImmediate(resolve));
    await options.beforeTile?.();
  };
  const { multiple } = model;
  const scale = model.scale ?? 1;
  // Tiny images: compute on an edge-extended copy at least `multiple` in each direction, then crop.
  const height = Math.max(source.height, multiple);
  const width = Math.max(source.width, multiple);
  const rows = planAxis(height, options.tile, options.overlap, multiple);
  const cols = planAxis(width, options.tile, options.overlap, multiple);
  const featherY = featherFor(rows, options.overlap);
  const featherX = featherFor(cols, options.overlap);
  // From here on, coordinates are output pixels (input pixels x scale).
  const outWidth = width * scale;
  const realWidth = source.width * scale;
  const realHeight = source.height * scale;
  const wx = cols.map((col) => Float32Array.from({ length: (col.end - col.start) * scale }, (_, i) => axisWeight(col, col.start * scale + i, width, featherX, scale)));
  let carry: RowCarry = { y0: 0, rows: 0, data: new Float32Array(0) };
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i]!;
    const y0 = row.start * scale;
    const bandHeight = (row.end - row.start) * scale;
    const wy = Float32Array.from({ length: bandHeight }, (_, y) => axisWeight(row, y0 + y, height, featherY, scale));
    // Rows from the next band's start on get more from it: they are carried, the rows above are final.
    const finalEnd = (i + 1 < rows.length ? rows[i + 1]!.start : height) * scale;
    const next: RowCarry = { y0: finalEnd, rows: y0 + bandHeight - finalEnd, data: new Float32Array((y0 + bandHeight - finalEnd) * outWidth * 3) };
    let left: Columns | null = null; // the previous tile's unfinished columns
    for (let j = 0; j < cols.length; j++) {
      await beforeTile();
      throwIfAborted(options.signal);
      const col = cols[j]!;
      const x0 = col.start * scale;
      const tileWidth = (col.end - col.start) * scale;
      const input = await tileFloats(source, col.start, row.start, col.end - col.start, row.end - row.start);
      const output = await runRegion(model.run, input, col.end - col.start, row.end - row.start, multiple, scale);
      // The window: this tile's output weighted (in place), plus what the tile on its left left unfinished.
      const window = weightTile(output, wy, wx[j]!);
      if (left) addColumns(window, tileWidth, left);
      // Columns before the next tile's start are done in this band.
      const doneEnd = (j + 1 < cols.length ? cols[j + 1]!.start : width) * scale;
      const doneColumns = doneEnd - x0;
      const keptColumns = Math.min(doneEnd, realWidth) - x0; // what the sink gets (tiny images are cropped)
      const finalRows = Math.min(finalEnd, realHeight) - y0;
      const final = finalRows > 0 && keptColumns > 0 ? new Float32Array(finalRows * keptColumns * 3) : null;
      for (let y = 0; y < bandHeight; y++) {
        const outY = y0 + y;
        const fromCarry = outY >= carry.y0 && outY - carry.y0 < carry.rows ? ((outY - carry.y0) * outWidth + x0) * 3 : -1;
        const src = y * tileWidth * 3;
        let target: Float32Array;
        let dst: number;
        let columns: number;
        if (outY < finalEnd) {
          if (!final || y >= finalRows) continue; // rows below a tiny image's end
          [target, dst, columns] = [final, y * keptColumns * 3, keptColumns];
        } else {
          [target, dst, columns] = [next.data, ((outY - finalEnd) * outWidth + x0) * 3, doneColumns];
        }
        if (fromCarry < 0) target.set(window.subarray(src, src + columns * 3), dst);
        else for (let k = 0; k < columns * 3; k++) target[dst + k] = window[src + k]! + carry.data[fromCarry + k]!;
      }
      if (final) await sink.region(x0, y0, keptColumns, finalRows, final);
      left = columnsFrom(window, tileWidth, doneColumns);
      options.onProgress?.((i + (j + 1) / cols.length) / rows.length);
    }
    if (finalEnd > y0 && y0 < realHeight) await sink.rowsDone?.(Math.min(finalEnd, realHeight));
    carry = next;
  }
}

export interface RestorePhotoOptions {
  /** Tile edge; default: chosen from the memory the backend can use. */
  tile?: number;
  signal?: AbortSignal;
  beforeTile?: () => Promise<void>;
  onProgress?: (fraction: number) => void;
  /** Called when an out-of-memory error makes the image start again with smaller tiles. */
  onRetry?: (info: { from: number; to: number; error: unknown }) => void;
  /** Automatic tone and colour after the model (off when absent); decided from the input photo. */
  tone?: AutoToneOptions;
  /** Damage repair before the model (off when absent): the detector's mask filled from around it. */
  repair?: RepairStage;
}

/** What the repair stage did to one photo. */
export type RepairOutcome =
  | { status: 'repaired'; filledShare: number; replaced: Float32Array }
  | { status: 'skipped'; reason: string };

export interface RestorePhotoResult {
  restored: RestoredPhoto;
  /** The tile size that succeeded. */
  tile: number;
  /** Out-of-memory retries it took. */
  retries: number;
  /** Absent when repair was not asked for. */
  repair?: RepairOutcome;
}

/**
 * Restores a decoded photo into a RestoredPhoto (ready to encode). On an out-of-memory error the image starts
 * again with tiles half the size, down to MIN_TILE; below that the error is thrown (code OUT_OF_MEMORY).
 */
export async function restorePhoto(model: RestoreModel, photo: Photo, format: OutputFormat, options: RestorePhotoOptions = {}): Promise<RestorePhotoResult> {
  const tone = options.tone ? planTone(await statisticsSample(photo), options.tone) : null;
  // With repair on, the detector's tiles are the first quarter of the photo's progress.
  const repairShare = options.repair ? 0.25 : 0;
  let source: PixelSource = photo;
  let repair: RepairOutcome | undefined;
  if (options.repair) {
    const megapixels = (photo.width * photo.height) / 1e6;
    if (megapixels > REPAIR_MAX_MEGAPIXELS || photo.disk) {
      repair = { status: 'skipped', reason: `damage repair skipped: ${megapixels.toFixed(0)} MP is more than the ${REPAIR_MAX_MEGAPIXELS} MP it can hold` };
    } else {
      const repaired = await repairDamage(options.repair.detector, photo, {
        strength: options.repair.strength,
        filler: options.repair.filler ?? null,
        tile: options.tile,
        signal: options.signal,
        beforeTile: options.beforeTile,
        onProgress: (f) => options.onProgress?.(f * repairShare),
      });
      source = repaired.source;
      repair = { status: 'repaired', filledShare: repaired.filledShare, replaced: repaired.replaced };
    }
  }
  const onProgress = options.onProgress && ((f: number) => options.onProgress!(repairShare + f * (1 - repairShare)));
  let plan = fitBand(planTiles(model, options.tile), model, photo.width);
  let retries = 0;
  for (;;) {
    // A new one for every attempt: a photo on disk's strips of an attempt that ran out of memory are left behind.
    const restored = new RestoredPhoto(photo, format, model.scale ?? 1);
    try {
      await restoreRows(
        model,
        source,
        { ...plan, signal: options.signal, beforeTile: options.beforeTile, onProgress },
        {
          region: (x0, y0, w, h, pixels) => restored.setRegion(x0, y0, w, h, tone ? applyTone(tone, pixels, pixels) : pixels),
          rowsDone: (y) => restored.rowsDone(y),
        },
      );
      return { restored, tile: plan.tile, retries, ...(repair ? { repair } : {}) };
    } catch (error) {
      if (!isOutOfMemory(error)) throw error;
      const next = smallerTile(plan.tile, model.multiple);
      if (next === null || model.fixedSize) throw outOfMemory(plan.tile, error);
      options.onRetry?.({ from: plan.tile, to: next, error });
      plan = fitBand(planTiles(model, next), model, photo.width);
      retries++;
    }
  }
}

function outOfMemory(tile: number, error: unknown): Error {
  const why = error instanceof Error ? error.message.split('\n')[0] : String(error);
  const err = new Error(`ran out of memory even with ${tile}-pixel tiles (${why})`);
  (err as Error & { code?: string }).code = 'OUT_OF_MEMORY';
  return err;
}
