// The learned half of the repair stage's fill: a mask-conditioned network (the zoo's fill-unet) that takes
// the photo with its damage interpolated by pull-push (data/fill.ts) and the mask of what was interpolated,
// and carries texture and edges into the holes. It only runs on tiles that hold damage, and only the masked
// pixels of its output are kept (the network itself passes unmasked pixels through; see MaskedResidual), so a
// clean photo, or the clean part of a damaged one, is exactly what it was. A filler that sees the original
// (fill-unet with seesOriginal) also gets the photo as it came in, and keeps the pixels it judges undamaged,
// which undoes a detector's false alarms.
import * as tf from '@tensorflow/tfjs-core';
import { StudioError, throwIfAborted } from '#shared/rpc/errors';
import { NO_MODEL } from '#shared/restore';
import type { FillResult } from '../data/fill';
import type { RgbImage } from '../data/image';
import { planTiles } from './memory';
import { analyseLayers, loadModelDir, resolveModelDir, type ModelLookup, type RestoreModel } from './model';
import { planAxis } from './tiles';

/** The bundled damage filler (resources/models/fill), used by repair when it is installed. */
export const DEFAULT_FILL_MODEL = 'fill';

/** A loaded damage filler. */
export interface DamageFiller extends RestoreModel {
  /** It takes the original photo too (7 channels: interpolated RGB, mask, original RGB). */
  seesOriginal: boolean;
}

/**
 * Loads a damage filler: a package whose task is "fill", taking RGB + mask (4 channels), or RGB + mask +
 * original RGB (7), and giving RGB.
 */
export async function loadDamageFiller(spec: string = DEFAULT_FILL_MODEL, lookup: ModelLookup = {}): Promise<DamageFiller> {
  const dir = await resolveModelDir(spec, 'restore', lookup);
  const loaded = await loadModelDir(dir);
  try {
    if (loaded.card?.task !== 'fill') {
      throw new StudioError(
        'MODEL_INVALID',
        `"${loaded.name}" (${dir}) is not a damage filler: its card says its task is "${loaded.card?.task ?? 'unknown (no card.json)'}". Train one with the fill-unet architecture on the old-photo-fill preset.`,
      );
    }
    const inShape = loaded.model.inputs[0]?.shape ?? [];
    const outShape = loaded.model.outputs[0]?.shape ?? [];
    if (loaded.model.inputs.length !== 1 || (inShape[3] !== 4 && inShape[3] !== 7) || outShape[3] !== 3) {
      throw new StudioError(
        'MODEL_INVALID',
        `"${loaded.name}" (${dir}) takes [${inShape.join(', ')}] and gives [${outShape.join(', ')}]; a damage filler takes RGB + mask (4 channels, or 7 with the original RGB) and gives RGB.`,
      );
    }
    const model = loaded.model;
    const analysis = analyseLayers(model);
    return {
      id: loaded.id,
      name: loaded.name,
      fingerprint: loaded.fingerprint,
      run: (x) => tf.tidy(() => model.predict(x) as tf.Tensor4D),
      scale: 1,
      macsPerPixel: loaded.card?.macsPerPixel ?? null,
      multiple: Math.max(analysis.multiple, loaded.card?.architecture.requiredMultiple ?? 1),
      receptiveRadius: analysis.receptiveRadius,
      bytesPerPixel: analysis.bytesPerPixel,
      fixedSize: null,
      dispose: () => model.dispose(),
      seesOriginal: inShape[3] === 7,
    };
  } catch (error) {
    loaded.model.dispose();
    throw error;
  }
}

/**
 * The filler the repair stage uses: the one `spec` names, none for NO_MODEL, and without a spec the bundled
 * one when it is installed (a studio without it fills by interpolation alone, as before the filler existed).
 */
export async function loadRepairFiller(spec: string | undefined, lookup: ModelLookup = {}): Promise<DamageFiller | null> {
  if (spec === NO_MODEL) return null;
  if (spec !== undefined) return loadDamageFiller(spec, lookup);
  try {
    return await loadDamageFiller(DEFAULT_FILL_MODEL, lookup);
  } catch (error) {
    if (error instanceof StudioError && error.code === 'MODEL_NOT_FOUND') return null;
    throw error;
  }
}

export interface LearnedFillOptions {
  tile?: number;
  signal?: AbortSignal;
  beforeTile?: () => Promise<void>;
}

/**
 * Refines the pull-push fill of `original` (fillDamage's result) with the filler, on the pixels the
 * interpolation replaced (any part of). Returns a new image; neither input is changed.
 */
export async function refineFill(filler: DamageFiller, original: RgbImage, fill: FillResult, options: LearnedFillOptions = {}): Promise<RgbImage> {
  const { image: filled, replaced } = fill;
  const { width, height } = filled;
  const channels = filler.seesOriginal ? 7 : 4;
  const out = filled.data.slice();
  const plan = planTiles(filler, options.tile);
  const rows = planAxis(height, plan.tile, plan.overlap, filler.multiple);
  const cols = planAxis(width, plan.tile, plan.overlap, filler.multiple);
  for (const row of rows) {
    for (const col of cols) {
      if (!anyMasked(replaced, width, col.coreStart, col.coreEnd, row.coreStart, row.coreEnd)) continue;
      throwIfAborted(options.signal);
      await options.beforeTile?.();
      const w = col.end - col.start;
      const h = row.end - row.start;
      const input = new Float32Array(w * h * channels);
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) {
          const p = (row.start + y) * width + col.start + x;
          const i = (y * w + x) * channels;
          for (let c = 0; c < 3; c++) {
            input[i + c] = filled.data[p * 3 + c]!;
            if (channels === 7) input[i + 4 + c] = original.data[p * 3 + c]!;
          }
          input[i + 3] = replaced[p]!;
        }
      }
      const output = tf.tidy(() => filler.run(tf.tensor4d(input, [1, h, w, channels])));
      const result = (await output.data()) as Float32Array;
      output.dispose();
      for (let y = row.coreStart; y < row.coreEnd; y++) {
        for (let x = col.coreStart; x < col.coreEnd; x++) {
          const p = y * width + x;
          if (replaced[p]! <= 0) continue;
          const r = ((y - row.start) * w + (x - col.start)) * 3;
          out[p * 3] = result[r]!;
          out[p * 3 + 1] = result[r + 1]!;
          out[p * 3 + 2] = result[r + 2]!;
        }
      }
    }
  }
  return { width, height, data: out };
}

function anyMasked(mask: Float32Array, width: number, x0: number, x1: number, y0: number, y1: number): boolean {
  for (let y = y0; y < y1; y++) {
    for (let p = y * width + x0; p < y * width + x1; p++) if (mask[p]! > 0) return true;
  }
  return false;
}
