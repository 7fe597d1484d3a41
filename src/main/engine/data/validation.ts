// Fixed validation data: the same crops (and, for clean-only datasets, the same synthesised degradations)
// every epoch, so validation numbers are comparable from one epoch to the next and between runs.
import { StudioError, throwIfAborted } from '#shared/rpc/errors';
import type { DatasetItem } from './dataset';
import { type RawRgbImage, decodeFailureReason, decodeImageFile } from './image';
import { cropRect } from './patches';
import { deriveSeed, Rng } from './rng';
import { type DegradationRecipe, synthesize } from './synth/recipe';
import { type TrainingTarget, inputChannels, trainingPair } from './target';
import type { SamplerWarning } from './sampler';
import type { PatchBatch } from './types';

export interface ValidationOptions {
  items: DatasetItem[];
  /** Needed when items have no degraded file. */
  recipe?: DegradationRecipe;
  /** What `clean` holds: the clean crop (default) or the synthesis' damage map (see ./target). */
  target?: TrainingTarget;
  /** Side of the centre crop (default 128), or 'full' for whole images (batches of one). */
  crop?: number | 'full';
  /** Seeds the synthesised degradations (one fixed draw per item). */
  seed?: number;
  /** Use at most this many items (the first ones in id order; default all). */
  maxItems?: number;
  /** Crops are kept in memory after the first pass while they fit in this budget (default 128 MiB). */
  maxCachedBytes?: number;
  onWarning?: (warning: SamplerWarning) => void;
}

export interface ValidationSample {
  id: string;
  width: number;
  height: number;
  clean: Float32Array;
  degraded: Float32Array;
}

export interface ValidationSet {
  readonly items: DatasetItem[];
  /** Batches of fixed crops, in item order. Crops of 'full' images come one per batch. */
  batches(batchSize?: number, signal?: AbortSignal): AsyncGenerator<PatchBatch>;
  /** The samples one by one (with ids), e.g. for per-image PSNR. */
  samples(signal?: AbortSignal): AsyncGenerator<ValidationSample>;
  /** Items skipped so far (unreadable, too small, size mismatch). */
  skipped(): ReadonlyMap<string, string>;
}

/** The centre crop of side `size`, or null when the image is smaller. */
export function centreCropBox(width: number, height: number, size: number): { x: number; y: number } | null {
  if (width < size || height < size) return null;
  return { x: Math.floor((width - size) / 2), y: Math.floor((height - size) / 2) };
}

export function createValidationSet(options: ValidationOptions): ValidationSet {
  const items = options.items.slice().sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)).slice(0, options.maxItems ?? Infinity);
  const crop = options.crop ?? 128;
  const seed = (options.seed ?? 0) >>> 0;
  const budget = options.maxCachedBytes ?? 128 * 1024 * 1024;
  if (!options.recipe && items.some((i) => !i.degraded)) {
    throw new StudioError('BAD_INPUT', 'A clean-only validation set needs a degradation recipe.');
  }
  const target = options.target ?? 'clean';
  if (target !== 'clean' && items.some((i) => i.degraded)) {
    throw new StudioError('BAD_INPUT', `Damage ${target === 'damage' ? 'detection' : 'filling'} is validated on synthesised damage: it needs a folder of clean photos.`);
  }
  const inChannels = inputChannels(target);
  const skipped = new Map<string, string>();
  let cache: ValidationSample[] | null = null;

  async function make(item: DatasetItem): Promise<ValidationSample | null> {
    let clean: RawRgbImage;
    let degraded: RawRgbImage | undefined;
    let file = item.clean;
    try {
      clean = (await decodeImageFile(item.clean)).image;
      if (item.degraded) {
        file = item.degraded;
        degraded = (await decodeImageFile(item.degraded)).image;
      }
    } catch (error) {
      return skip(item, file, decodeFailureReason(error));
    }
    if (degraded && (degraded.width !== clean.width || degraded.height !== clean.height)) {
      return skip(item, item.degraded!, `size ${degraded.width}x${degraded.height} differs from the clean image's ${clean.width}x${clean.height}`);
    }
    let x = 0;
    let y = 0;
    let w = clean.width;
    let h = clean.height;
    if (crop !== 'full') {
      const box = centreCropBox(clean.width, clean.height, crop);
      if (!box) return skip(item, item.clean, `${clean.width}x${clean.height} is smaller than the ${crop}px validation crop`);
      ({ x, y } = box);
      w = crop;
      h = crop;
    }
    const cleanCrop = cropRect(clean, x, y, w, h);
    if (degraded) return { id: item.id, width: w, height: h, clean: cleanCrop, degraded: cropRect(degraded, x, y, w, h) };
    const synth = await synthesize({ width: w, height: h, data: cleanCrop }, options.recipe!, deriveSeed(seed, 'val', item.id));
    const pair = trainingPair(target, cleanCrop, synth, new Rng(deriveSeed(seed, 'val-target', item.id)));
    return { id: item.id, width: w, height: h, clean: pair.target, degraded: pair.input };
  }

  function skip(item: DatasetItem, file: string, reason: string): null {
    if (!skipped.has(item.id)) {
      skipped.set(item.id, `${file}: ${reason}`);
      options.onWarning?.({ id: item.id, file, reason });
    }
    return null;
  }

  async function* samples(signal?: AbortSignal): AsyncGenerator<ValidationSample> {
    if (cache) {
      for (const s of cache) yield s;
      return;
    }
    const kept: ValidationSample[] = [];
    let bytes = 0;
    let complete = true;
    for (const item of items) {
      throwIfAborted(signal);
      const sample = await make(item);
      if (!sample) continue;
      bytes += (sample.clean.byteLength + sample.degraded.byteLength);
      if (bytes <= budget) kept.push(sample);
      else complete = false;
      yield sample;
    }
    if (complete) cache = kept;
  }

  async function* batches(batchSize = 16, signal?: AbortSignal): AsyncGenerator<PatchBatch> {
    const size = crop === 'full' ? 1 : Math.max(1, batchSize);
    let group: ValidationSample[] = [];
    const flush = (): PatchBatch => {
      const first = group[0]!;
      const n = first.width * first.height * 3;
      const nIn = first.width * first.height * inChannels;
      const clean = new Float32Array(group.length * n);
      const degraded = new Float32Array(group.length * nIn);
      group.forEach((s, i) => {
        clean.set(s.clean, i * n);
        degraded.set(s.degraded, i * nIn);
      });
      const batch: PatchBatch = { clean, degraded, batch: group.length, height: first.height, width: first.width, channels: 3, ...(inChannels !== 3 ? { inputChannels: inChannels } : {}) };
      group = [];
      return batch;
    };
    for await (const sample of samples(signal)) {
      group.push(sample);
      if (group.length >= size) yield flush();
    }
    if (group.length > 0) yield flush();
  }

  return { items, batches, samples, skipped: () => skipped };
}
