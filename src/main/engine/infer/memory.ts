// How big the tiles are: chosen from the memory the backend can use, settable, halved on out-of-memory.
import * as tf from '@tensorflow/tfjs-core';
import { freemem } from 'node:os';
import { chooseTileSize } from './tiles';
import type { RestoreModel } from './model';
import { largePhotoMegapixels } from './large-photo';

/** Tiles are never made smaller than this when retrying after an out-of-memory error. */
export const MIN_TILE = 128;
/**
 * Largest automatic tile. Bigger tiles waste less on overlaps but are memory-bound on CPU backends; past
 * ~1k pixels a side they get slower per pixel, not faster.
 */
export const MAX_AUTO_TILE = 1024;
/**
 * The wasm backend's heap is one WebAssembly memory of at most 4 GB that never shrinks; tensors, the
 * backend's scratch space and fragmentation share it, so a tile's activations get at most this much.
 */
export const WASM_ACTIVATION_BUDGET = 1.5 * 1024 ** 3;
/** JS-heap backends (cpu) allocate typed arrays outside V8's heap; stay well inside the machine's RAM. */
export const CPU_ACTIVATION_BUDGET = 2 * 1024 ** 3;

export interface TilePlan {
  tile: number;
  overlap: number;
}

/** Bytes of activations a tile may use on the current backend. */
export function memoryBudget(backend: string = tf.getBackend()): number {
  const free = freemem() * 0.5;
  const cap = backend === 'wasm' ? WASM_ACTIVATION_BUDGET : backend === 'cpu' ? CPU_ACTIVATION_BUDGET : 3 * 1024 ** 3;
  return Math.max(64 * 1024 ** 2, Math.min(cap, free));
}

/** The automatic tile edge for a model: what fits the budget, at most MAX_AUTO_TILE, aligned to the model. */
export function autoTileSize(model: RestoreModel, budgetBytes: number = memoryBudget()): number {
  if (model.fixedSize) return Math.min(...model.fixedSize);
  const edge = Math.min(MAX_AUTO_TILE, chooseTileSize(model.bytesPerPixel, budgetBytes));
  return alignTile(edge, model.multiple);
}

function alignTile(tile: number, multiple: number): number {
  return Math.max(multiple, Math.floor(tile / multiple) * multiple);
}

/**
 * The overlap for a tile size: twice the receptive radius (exact seams, see tiles.ts), but at most a quarter
 * of the tile, so a tile's core is at least half of it and overlaps cost at most 4x the work (beyond that
 * the cross-fade hides what the context misses); a quarter of the tile for models with global operations.
 */
export function overlapFor(model: RestoreModel, tile: number): number {
  const m = model.multiple;
  const wanted = Number.isFinite(model.receptiveRadius) ? Math.max(8, 2 * model.receptiveRadius) : Math.floor(tile / 4);
  let overlap = Math.min(wanted, Math.floor(tile / 4));
  const roundUp = (v: number): number => Math.ceil(v / m) * m;
  while (overlap > 0 && tile - 2 * roundUp(overlap) < Math.max(8, m)) overlap -= m;
  return Math.max(0, overlap);
}

/** Tile and overlap for a requested tile size (or the automatic one). */
export function planTiles(model: RestoreModel, tile?: number, budgetBytes?: number): TilePlan {
  const edge = tile === undefined ? autoTileSize(model, budgetBytes) : model.fixedSize ? Math.min(tile, ...model.fixedSize) : alignTile(tile, model.multiple);
  return { tile: edge, overlap: overlapFor(model, edge) };
}

/**
 * Bytes restore-image.ts may hold besides the photo and a tile's activations: the tile's input and
 * output floats and the finished piece of it, the overlap rows carried from one band of tiles to the next
 * across the width, and an 8-bit strip of a band across the width (a photo on disk fills it before writing
 * it as a file), all at the output's size: for a 4x upscaler on a 16000-pixel-wide photo a 1024-row band's
 * strip alone would be 786 MB, so the tile (which sets the band's height) is made smaller for wide photos at
 * big scales. Restorers (scale 1) are never limited by it in practice.
 */
export const BAND_BUDGET = 768 * 1024 ** 2;

/** What restoreRows holds for a plan on a `width`-pixel-wide photo, outside the photo and the activations. */
export function bandBytes(plan: TilePlan, model: RestoreModel, width: number): number {
  const scale = model.scale ?? 1;
  const tile = plan.tile * plan.tile * 3 * 4 * (1 + 2 * scale * scale);
  const carried = 2 * 2 * plan.overlap * scale * width * scale * 3 * 4;
  const strip = plan.tile * scale * width * scale * 3;
  return tile + carried + strip;
}

/** The plan with its tile shrunk, if needed, so what a `width`-pixel-wide photo's restore holds fits BAND_BUDGET. */
export function fitBand(plan: TilePlan, model: RestoreModel, width: number): TilePlan {
  if (model.fixedSize) return plan;
  let fitted = plan;
  for (let next = smallerTile(fitted.tile, model.multiple); bandBytes(fitted, model, width) > BAND_BUDGET && next !== null; next = smallerTile(next, model.multiple)) {
    fitted = planTiles(model, next);
  }
  return fitted;
}

/** The next tile size to try after running out of memory, or null when already at the smallest. */
export function smallerTile(tile: number, multiple = 1): number | null {
  if (tile <= MIN_TILE) return null;
  return Math.max(MIN_TILE, alignTile(Math.floor(tile / 2), multiple));
}

/**
 * Whether an error means memory ran out: V8/Node allocation failures, the wasm heap failing to grow (an
 * allocation beyond it surfaces as a RangeError about offsets or lengths), or a backend's own OOM message.
 */
export function isOutOfMemory(error: unknown): boolean {
  if (typeof error === 'object' && error !== null && (error as { code?: string }).code === 'OUT_OF_MEMORY') return true;
  const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return (
    /out of memory|\bOOM\b|allocation failed|cannot enlarge memory|failed to allocate|could not allocate|memory limit|ResourceExhausted|maximum memory size exceeded|WebAssembly\.Memory\.grow/i.test(message) ||
    (/RangeError/.test(message) && /out of bounds|invalid typed array length|invalid array buffer length|array buffer allocation/i.test(message))
  );
}

/**
 * What restoring one photo should hold at its peak, said before a batch starts: what restoreRows holds
 * (bandBytes), a tile's activations, and, for a photo small enough to be held (below largePhotoMegapixels()),
 * the decoded and the restored photo; a larger one is read from disk a tile at a time and written in strips.
 */
export function peakRestoreBytes(width: number, height: number, plan: TilePlan, model: RestoreModel): number {
  const scale = model.scale ?? 1;
  const activations = model.bytesPerPixel * plan.tile * plan.tile;
  const held = (width * height) / 1e6 > largePhotoMegapixels() ? 0 : width * height * 3 * (1 + scale * scale);
  return bandBytes(plan, model, width) + activations + held;
}
