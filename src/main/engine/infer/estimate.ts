// How long a batch will take, said before the first photo is done. A 4x upscaler can cost a hundred times
// what a light denoiser does per input pixel (its convolutions run at 16x the pixels), so a guess from
// megapixels alone would be off by that much; instead the model is timed once here, on one small tile, and
// the batch's work is counted in the model's own terms:
//   seconds ≈ Σ files [ input pixels × overlap factor × model seconds per pixel + output pixels × write cost ]
// The overlap factor is what the tiles really feed the model (cores plus their overlaps, from the same plan
// the restore uses); the write cost covers stitching and encoding, which grow with the output (scale²).
import * as tf from '@tensorflow/tfjs-core';
import { planAxis } from './tiles';
import type { TilePlan } from './memory';
import type { RestoreModel } from './model';

/**
 * Stitching, compositing and encoding, per output pixel: sharp encodes a 2304x2880 PNG (level 6) at ~65 ns
 * and a JPEG (q92, 4:4:4) at ~115 ns per pixel on this kind of machine; the float stitching adds ~10-20 ns.
 */
export const WRITE_SECONDS_PER_OUTPUT_PIXEL = 1.2e-7;
/** Multiply-adds the timing tile aims at: enough that per-call overhead does not dominate, small enough to be quick. */
const CALIBRATION_MACS = 3e8;

/**
 * The edge of the timing tile: about CALIBRATION_MACS of work for a model of known cost (small for a heavy
 * upscaler, larger for a light restorer), 64 when the cost is unknown; aligned to the model's multiple.
 */
export function calibrationSide(model: Pick<RestoreModel, 'macsPerPixel' | 'multiple' | 'fixedSize'>): number {
  if (model.fixedSize) return Math.min(...model.fixedSize);
  const macs = model.macsPerPixel ?? null;
  const side = macs && macs > 0 ? Math.sqrt(CALIBRATION_MACS / macs) : 64;
  const clamped = Math.max(16, Math.min(128, side));
  const m = Math.max(1, model.multiple);
  return Math.max(m, Math.round(clamped / m) * m);
}

/**
 * Seconds the model takes per input pixel on this backend (`channels`: what it takes in; 4 or 7 for a damage
 * filler). The first runs (kernels compile, weights upload) start at the calibration side, or 16 pixels when
 * the cost is unknown, and the tile doubles until a run takes long enough to time, so an unknown heavy model
 * costs one small run, not a minute.
 */
export async function timeModel(model: RestoreModel, channels = 3): Promise<number> {
  const target = calibrationSide(model);
  let side = model.macsPerPixel || model.fixedSize ? target : Math.max(16, Math.max(1, model.multiple));
  const once = async (): Promise<number> => {
    const start = performance.now();
    const y = tf.tidy(() => model.run(tf.zeros([1, side, side, channels]) as tf.Tensor4D));
    try {
      await y.data(); // the work happens on read for async backends
    } finally {
      y.dispose();
    }
    return (performance.now() - start) / 1000;
  };
  await once();
  let seconds = await once();
  while (seconds < 0.05 && side < 128 && !model.fixedSize) {
    side = Math.min(128, side * 2);
    seconds = Math.min(await once(), await once());
  }
  return seconds / (side * side);
}

/** Pixels the tiles of one image feed the model, over the image's pixels (1 = no overlap). */
export function overlapFactor(width: number, height: number, plan: TilePlan, multiple = 1): number {
  if (width <= 0 || height <= 0) return 1;
  const fed = (length: number): number => {
    let total = 0;
    for (const s of planAxis(Math.max(length, multiple), plan.tile, plan.overlap, multiple)) {
      total += Math.ceil((s.end - s.start) / multiple) * multiple; // tiles are padded to the multiple
    }
    return total;
  };
  return (fed(width) * fed(height)) / (width * height);
}

export interface EstimateInput {
  width: number;
  height: number;
}

/** Seconds for the files, given the model's measured seconds per input pixel. */
export function estimateBatchSeconds(files: EstimateInput[], plan: TilePlan, model: Pick<RestoreModel, 'multiple' | 'scale'>, secondsPerPixel: number): number {
  const scale = model.scale ?? 1;
  let seconds = 0;
  for (const { width, height } of files) {
    if (width <= 0 || height <= 0) continue;
    const pixels = width * height;
    seconds += pixels * overlapFactor(width, height, plan, model.multiple) * secondsPerPixel;
    seconds += pixels * scale * scale * WRITE_SECONDS_PER_OUTPUT_PIXEL;
  }
  return seconds;
}
