// Restoring one image of any size with bounded memory. The image is processed one row of tiles at a time:
// each band (a tile row's full width) goes through restoreTiled, bands are cross-faded with the same weights
// restoreTiled uses between tile rows, and finished rows are handed to a sink as soon as no later band can
// touch them. So the result equals restoreTiled on the whole image, while the floats alive at once are one
// band (input and output) instead of the whole image, and tensors are one tile.
// An upscaler's output (model.scale x the input) is stitched and handed over in output rows; bands are
// planned in input rows and cross-faded in output rows (tiles.ts's axisWeight at that scale).
import { throwIfAborted } from '#shared/rpc/errors';
import { axisWeight, featherFor, planAxis, restoreTiled } from './tiles';
import type { RestoreModel } from './model';
import { fitBand, isOutOfMemory, planTiles, smallerTile, type TilePlan } from './memory';
import { RestoredPhoto, type OutputFormat, type Photo } from './photo';
import { type AutoToneOptions, applyTone, planTone } from './tone';
import { REPAIR_MAX_MEGAPIXELS, repairDamage, type RepairStage } from './repair';
import { rowsOf, sampleForStatistics, statisticsSample, type PixelSource } from './pixel-source';

export { sampleForStatistics, type PixelSource };

export interface RestoreRowsOptions extends TilePlan {
  signal?: AbortSignal;
  /** Awaited before every tile: where a paused job waits. */
  beforeTile?: () => Promise<void>;
  /** Fraction of the image done, after every tile. */
  onProgress?: (fraction: number) => void;
}

/** Receives finished output rows [y0, y0 + n): n x (width · scale) x 3 floats (nominally in [0, 1]); awaited. */
export type RowSink = (y0: number, rows: Float32Array) => void | Promise<void>;

function bandToFloat(source: PixelSource, y0: number, y1: number, padWidth: number): Float32Array {
  const { width, channels, pixels, maxValue } = source;
  const outWidth = Math.max(width, padWidth);
  const out = new Float32Array((y1 - y0) * outWidth * 3);
  const scale = 1 / maxValue;
  for (let y = y0; y < y1; y++) {
    const sy = Math.min(y, source.height - 1);
    for (let x = 0; x < outWidth; x++) {
      const sx = Math.min(x, width - 1);
      const src = (sy * width + sx) * channels;
      const dst = ((y - y0) * outWidth + x) * 3;
      out[dst] = pixels[src]! * scale;
      out[dst + 1] = pixels[src + 1]! * scale;
      out[dst + 2] = pixels[src + 2]! * scale;
    }
  }
  return out;
}

/**
 * Restores `source` band by band into `sink`. The output is restoreTiled(model, wholeImage) up to float
 * rounding. Images smaller than the model's multiple are edge-extended first (mirror padding needs room).
 */
export async function restoreRows(model: RestoreModel, source: PixelSource, options: RestoreRowsOptions, sink: RowSink): Promise<void> {
  const { width } = source;
  // CPU backends resolve tile results as microtasks: without a real turn of the event loop between tiles,
  // Ctrl+C, cancel and pause messages would only be seen after the whole image.
  const beforeTile = async (): Promise<void> => {
    await new Promise<void>((resolve) => setImmediate(resolve));
    await options.beforeTile?.();
  };
  const multiple = model.multiple;
  const scale = model.scale ?? 1;
  // Tiny images: compute on an edge-extended copy at least `multiple` in each direction, then crop.
  const height = Math.max(source.height, multiple);
  const paddedWidth = Math.max(width, multiple);
  const rows = planAxis(height, options.tile, options.overlap, multiple);
  const featherY = featherFor(rows, options.overlap);
  // From here on rows and widths are output pixels (input pixels x scale).
  const rowFloats = paddedWidth * scale * 3;
  let carry: Float32Array | null = null; // accumulated output of rows [carryStart, previous band's end)
  let carryStart = 0;
  for (let i = 0; i < rows.length; i++) {
    throwIfAborted(options.signal);
    const row = rows[i]!;
    // The band's rows alone (read from disk for a large photo); rows past the image's end repeat its last
    // row (bandToFloat clamps), which only tiny images, padded to the model's multiple, have.
    const top = Math.min(row.start, source.height - 1);
    const rowsIn = await rowsOf(source, top, row.end);
    const band = { width: paddedWidth, height: row.end - row.start, data: bandToFloat(rowsIn, row.start - top, row.end - top, paddedWidth) };
    const restored = await restoreTiled(model.run, band, {
      tile: options.tile,
      overlap: options.overlap,
      multiple,
      scale,
      signal: options.signal,
      beforeTile,
      onProgress: (f) => options.onProgress?.((i + f) / rows.length),
    });
    const start = row.start * scale;
    const h = (row.end - row.start) * scale;
    // Accumulator for rows [start, start + h): the previous band's carried rows, plus this band weighted.
    const acc = new Float32Array(h * rowFloats);
    if (carry) acc.set(carry.subarray((start - carryStart) * rowFloats), 0);
    for (let y = 0; y < h; y++) {
      const w = axisWeight(row, start + y, height, featherY, scale);
      if (w === 0) continue;
      const off = y * rowFloats;
      // Weight 1: the previous band's weight is 0 on this row, so nothing was carried into it.
      if (w === 1) acc.set(restored.data.subarray(off, off + rowFloats), off);
      else for (let k = 0; k < rowFloats; k++) acc[off + k]! += w * restored.data[off + k]!;
    }
    // Rows before the next band's start are final.
    const finalEnd = (i + 1 < rows.length ? rows[i + 1]!.start : height) * scale;
    const finalCount = Math.min(finalEnd, source.height * scale) - start;
    if (finalCount > 0) await sink(start, cropWidth(acc.subarray(0, finalCount * rowFloats), paddedWidth * scale, width * scale));
    carry = acc.subarray((finalEnd - start) * rowFloats);
    carryStart = finalEnd;
  }
}

function cropWidth(rows: Float32Array, from: number, to: number): Float32Array {
  if (from === to) return rows;
  const n = rows.length / (from * 3);
  const out = new Float32Array(n * to * 3);
  for (let y = 0; y < n; y++) out.set(rows.subarray(y * from * 3, y * from * 3 + to * 3), y * to * 3);
  return out;
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
  const restored = new RestoredPhoto(photo, format, model.scale ?? 1);
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
    try {
      await restoreRows(
        model,
        source,
        { ...plan, signal: options.signal, beforeTile: options.beforeTile, onProgress },
        (y0, rows) => restored.setRows(y0, tone ? applyTone(tone, rows, rows) : rows),
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
