// The repair stage of restore: a damage detector (a U-Net trained on the old-photo-damage synthesis) finds
// scratches, dust and cracks, and the fill stage replaces those pixels by an interpolation of the pixels around
// them, which a damage filler (a mask-conditioned U-Net, learned-fill.ts), when one is given, then refines with
// the texture and edges of the surroundings. Every other pixel is kept, so a clean photo passes unchanged (the
// detector flags almost nothing on it).
// It runs before the restoration model: the detector learned damage as it looks in a scan (with its grain and
// JPEG), and the model then cleans the filled photo as a whole.
import { throwIfAborted } from '#shared/rpc/errors';
import { fillDamage } from '../data/fill';
import { refineFill, type DamageFiller } from './learned-fill';
import { planTiles } from './memory';
import type { RestoreModel } from './model';
import { sampleForStatistics, type PixelSource } from './pixel-source';
import { restoreTiled } from './tiles';

/** Repair needs the whole photo in floats (the fill interpolates across it): above this it is skipped. */
export const REPAIR_MAX_MEGAPIXELS = 40;

/** The repair stage as a batch runs it: the detector and how far to trust it. */
export interface RepairStage {
  detector: RestoreModel;
  /** 0-1 (repairThreshold). */
  strength: number;
  /** The learned filler; without one the holes keep the pull-push interpolation. */
  filler?: DamageFiller | null;
}

export interface RepairOptions {
  /** 0-1: how sure the detector must be before a pixel is filled; 1 fills the most. */
  strength: number;
  /** Refines the interpolated holes (learned-fill.ts); absent or null keeps the interpolation. */
  filler?: DamageFiller | null;
  tile?: number;
  signal?: AbortSignal;
  beforeTile?: () => Promise<void>;
  onProgress?: (fraction: number) => void;
}

export interface RepairResult {
  /** The photo with its damage filled: 16-bit RGB, so the fill's interpolation is not rounded to 8 bits. */
  source: PixelSource;
  /** The detector's damage probability per pixel (0-1). */
  damage: Float32Array;
  /** How much of each pixel was replaced (0-1). */
  replaced: Float32Array;
  /** Share of the photo's pixels that were filled. */
  filledShare: number;
}

/**
 * The detector probability a pixel must reach to be filled at a strength: 0.5 at strength 0.5 (the
 * detector's own decision), down to 0.3 at 1 (more of the faint scratches, a few more false alarms), up to
 * 0.7 near 0 (only the surest).
 */
export function repairThreshold(strength: number): number {
  const s = Math.min(1, Math.max(0, strength));
  return 0.7 - 0.4 * s;
}

/** The detector's damage probability for every pixel of an RGB float image. */
export async function detectDamage(
  detector: RestoreModel,
  image: { width: number; height: number; data: Float32Array },
  options: Omit<RepairOptions, 'strength'> = {},
): Promise<Float32Array> {
  const plan = planTiles(detector, options.tile);
  const out = await restoreTiled(detector.run, image, { ...plan, multiple: detector.multiple, signal: options.signal, beforeTile: options.beforeTile, onProgress: options.onProgress });
  // The detector repeats its probability in the three channels.
  const damage = new Float32Array(image.width * image.height);
  for (let p = 0; p < damage.length; p++) damage[p] = out.data[p * 3]!;
  return damage;
}

/** Finds and fills the damage of `source`. */
export async function repairDamage(detector: RestoreModel, source: PixelSource, options: RepairOptions): Promise<RepairResult> {
  const image = sampleForStatistics(source, Infinity);
  const damage = await detectDamage(detector, image, options);
  throwIfAborted(options.signal);
  const filled = fillDamage(image, damage, { threshold: repairThreshold(options.strength) });
  const result = options.filler && filled.filledShare > 0 ? await refineFill(options.filler, image, filled, options) : filled.image;
  const pixels = new Uint16Array(result.data.length);
  for (let i = 0; i < pixels.length; i++) pixels[i] = Math.round(Math.min(1, Math.max(0, result.data[i]!)) * 65535);
  return {
    source: { width: source.width, height: source.height, channels: 3, pixels, maxValue: 65535 },
    damage,
    replaced: filled.replaced,
    filledShare: filled.filledShare,
  };
}
