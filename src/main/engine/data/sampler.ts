// The streaming patch sampler: an endless, seeded stream of (degraded, clean) patch batches for training.
//
// How it works:
// - Each epoch visits every training item once, in an order shuffled by (seed, epoch).
// - A visit decodes the pair (or takes it from an LRU cache bounded by entries and bytes), and for
//   clean-only items synthesises a degraded version of a window of the image with the recipe, seeded by
//   (seed, epoch, position), then draws `patchesPerImage` random crops with one of the 8 flips/rotations,
//   the same for both images of the pair.
// - Patches go into a small shuffle pool; batches are drawn from it at random so a batch mixes images.
// - A producer loop runs ahead of the consumer: decodes of the next visits are started early (sharp
//   decodes on libuv threads) and up to `prefetchBatches` finished batches wait in a queue.
// Memory is bounded whatever the dataset size: cache + look-ahead decodes + pool + queue.
// Output is deterministic for a seed and item list, whatever the timing.
import { StudioError } from '#shared/rpc/errors';
import type { DatasetItem } from './dataset';
import { type RawRgbImage, type RgbImage, decodeFailureReason, decodeImageFile } from './image';
import { LruCache } from './lru';
import { type PixelSource, cropRect, extractPatch } from './patches';
import { Rng, deriveSeed } from './rng';
import { type DegradationRecipe, synthesize } from './synth/recipe';
import { type TrainingTarget, inputChannels, trainingPair } from './target';
import type { PatchBatch, PatchSampler } from './types';
import { cancelled, Waiters } from './waiters';

export interface SamplerOptions {
  /** The items to train on (e.g. splitDataset(...).train). Items without `degraded` need a recipe. */
  items: DatasetItem[];
  /** Degradation recipe for clean-only items (see presetRecipe / resolvePreset). */
  recipe?: DegradationRecipe;
  /** What the patches' `clean` side holds: the clean photo (default) or the synthesis' damage map. */
  target?: TrainingTarget;
  /** Patch side in px (default 64). */
  patchSize?: number;
  /** Patches per batch (default 16). */
  batchSize?: number;
  seed?: number;
  /** Patches drawn per decoded image and visit (default 8). */
  patchesPerImage?: number;
  /** Random flips and 90° rotations (default true). */
  augment?: boolean;
  /** Decoded pairs kept in the LRU cache (default 32). */
  cacheImages?: number;
  /** Byte budget of the cache (default 256 MiB). Images are stored as 8/16-bit, not floats. */
  cacheBytes?: number;
  /** Finished batches kept ready (default 4). */
  prefetchBatches?: number;
  /** Visits whose decoding starts ahead of time (default 4). */
  decodeAhead?: number;
  /** Patches in the shuffle pool batches are drawn from (default 4 × batchSize). */
  shufflePool?: number;
  /** Clean-only items: synthesis runs on a random window of at most this side (default max(256, 4 × patch)),
   *  so big photos cost no more than small ones. */
  synthWindow?: number;
  /** Called once per file that cannot be used (unreadable, size mismatch, too small). */
  onWarning?: (warning: SamplerWarning) => void;
}

export interface SamplerWarning {
  id: string;
  file: string;
  reason: string;
}

export interface SamplerStats {
  batches: number;
  patches: number;
  visits: number;
  epoch: number;
  decodes: number;
  cacheHits: number;
  cacheEntries: number;
  cacheBytes: number;
  /** Items skipped because they cannot be used. */
  badItems: number;
  /** Batches ready in the queue now. */
  queued: number;
  /** How often nextBatch found the queue empty, and how long callers waited in total (ms). */
  waits: number;
  waitMs: number;
  /** Time the producer spent synthesising degradations (ms). */
  synthMs: number;
  /** Bytes held: cache + look-ahead + pool + queue. */
  heldBytes: number;
}

interface LoadedPair {
  clean: RawRgbImage;
  degraded?: RawRgbImage;
}

type LoadResult = { ok: true; pair: LoadedPair } | { ok: false; file: string; reason: string };

interface Visit {
  item: DatasetItem;
  epoch: number;
  pos: number;
  load: Promise<LoadResult>;
}

interface Patch {
  clean: Float32Array;
  degraded: Float32Array;
}

export interface ResolvedSamplerOptions {
  patchSize: number;
  batchSize: number;
  seed: number;
  patchesPerImage: number;
  augment: boolean;
  cacheImages: number;
  cacheBytes: number;
  prefetchBatches: number;
  decodeAhead: number;
  shufflePool: number;
  synthWindow: number;
}

export function resolveSamplerOptions(options: SamplerOptions): ResolvedSamplerOptions {
  const patchSize = options.patchSize ?? 64;
  const batchSize = options.batchSize ?? 16;
  const positiveInt = (name: string, v: number, min = 1): number => {
    if (!Number.isInteger(v) || v < min) throw new StudioError('BAD_INPUT', `Sampler option ${name} must be an integer >= ${min}, got ${v}.`);
    return v;
  };
  return {
    patchSize: positiveInt('patchSize', patchSize),
    batchSize: positiveInt('batchSize', batchSize),
    seed: (options.seed ?? 0) >>> 0,
    patchesPerImage: positiveInt('patchesPerImage', options.patchesPerImage ?? 8),
    augment: options.augment ?? true,
    cacheImages: positiveInt('cacheImages', options.cacheImages ?? 32, 0),
    cacheBytes: positiveInt('cacheBytes', options.cacheBytes ?? 256 * 1024 * 1024, 0),
    prefetchBatches: positiveInt('prefetchBatches', options.prefetchBatches ?? 4),
    decodeAhead: positiveInt('decodeAhead', options.decodeAhead ?? 4, 0),
    shufflePool: positiveInt('shufflePool', options.shufflePool ?? 4 * batchSize),
    synthWindow: Math.max(patchSize, positiveInt('synthWindow', options.synthWindow ?? Math.max(256, 4 * patchSize))),
  };
}

function rawSource(raw: RawRgbImage): PixelSource {
  return raw;
}

function floatSource(image: RgbImage): PixelSource {
  return { width: image.width, height: image.height, data: image.data, scale: 1 };
}

export class StreamingPatchSampler implements PatchSampler {
  readonly options: ResolvedSamplerOptions;
  private readonly items: DatasetItem[];
  private readonly recipe?: DegradationRecipe;
  private readonly target: TrainingTarget;
  private readonly onWarning?: (warning: SamplerWarning) => void;
  private readonly cache: LruCache<LoadedPair>;
  private readonly inflight = new Map<string, Promise<LoadResult>>();
  private readonly bad = new Map<string, string>();
  private readonly mixRng: Rng;
  private planEpoch = 0;
  private planPos = 0;
  private planOrder: DatasetItem[] = [];
  private readonly lookahead: Visit[] = [];
  private pool: Patch[] = [];
  private readonly queue: PatchBatch[] = [];
  private readonly waiters = new Waiters<PatchBatch>();
  private wakeProducer: (() => void) | null = null;
  private closed = false;
  private failure: Error | null = null;
  private readonly running: Promise<void>;
  private currentEpoch = 0;
  private counters = { batches: 0, patches: 0, visits: 0, decodes: 0, synthMs: 0 };

  constructor(options: SamplerOptions) {
    this.options = resolveSamplerOptions(options);
    this.items = options.items.slice();
    this.recipe = options.recipe;
    this.target = options.target ?? 'clean';
    this.onWarning = options.onWarning;
    if (this.items.length === 0) throw new StudioError('DATASET_EMPTY', 'There are no training images to sample patches from.');
    if (!this.recipe && this.items.some((i) => !i.degraded)) {
      throw new StudioError('BAD_INPUT', 'A clean-only dataset needs a degradation recipe (a preset such as gaussian:25 or old-photo).');
    }
    if (this.target !== 'clean' && (!this.recipe || this.items.some((i) => i.degraded))) {
      const what = this.target === 'damage' ? 'Damage detection learns where the synthesis drew the damage' : 'Damage filling learns to fill what the synthesis drew';
      throw new StudioError('BAD_INPUT', `${what}: it needs a folder of clean photos and a recipe.`);
    }
    this.cache = new LruCache(this.options.cacheImages, this.options.cacheBytes);
    this.mixRng = new Rng(deriveSeed(this.options.seed, 'mix'));
    this.planOrder = this.orderFor(0);
    this.running = this.produce().catch((error: unknown) => {
      this.fail(error instanceof Error ? error : new Error(String(error)));
    });
  }

  // ── Consumer side ──────────────────────────────────────────────────────────────────────────────────

  nextBatch(signal?: AbortSignal): Promise<PatchBatch> {
    if (signal?.aborted) return Promise.reject(cancelled());
    if (this.failure) return Promise.reject(this.failure);
    if (this.closed) return Promise.reject(cancelled());
    const ready = this.queue.shift();
    if (ready) {
      this.wake();
      return Promise.resolve(ready);
    }
    const waiting = this.waiters.wait(signal);
    this.wake();
    return waiting;
  }

  async close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      this.waiters.rejectAll(cancelled());
      this.wake();
    }
    await this.running;
    this.cache.clear();
    this.queue.length = 0;
    this.pool = [];
    this.lookahead.length = 0;
    this.inflight.clear();
  }

  stats(): SamplerStats {
    const patchBytes = this.options.patchSize * this.options.patchSize * (3 + inputChannels(this.target)) * 4;
    return {
      ...this.counters,
      waits: this.waiters.waits,
      waitMs: this.waiters.waitMs,
      epoch: this.currentEpoch,
      cacheHits: this.cache.hits,
      cacheEntries: this.cache.size,
      cacheBytes: this.cache.bytes,
      badItems: this.bad.size,
      queued: this.queue.length,
      heldBytes:
        this.cache.bytes +
        this.pool.length * patchBytes +
        this.queue.length * patchBytes * this.options.batchSize +
        this.lookahead.length * this.approxImageBytes(),
    };
  }

  /** Items found unusable so far (id → reason). */
  badItems(): ReadonlyMap<string, string> {
    return this.bad;
  }

  // ── Producer side ──────────────────────────────────────────────────────────────────────────────────

  private wake(): void {
    const w = this.wakeProducer;
    this.wakeProducer = null;
    w?.();
  }

  private fail(error: Error): void {
    if (this.failure || this.closed) return;
    this.failure = error;
    this.waiters.rejectAll(error);
  }

  private hasSpace(): boolean {
    return this.queue.length < this.options.prefetchBatches || this.waiters.length > 0;
  }

  private async waitForSpace(): Promise<void> {
    while (!this.closed && !this.hasSpace()) {
      await new Promise<void>((resolve) => {
        this.wakeProducer = resolve;
      });
    }
  }

  private async produce(): Promise<void> {
    const target = Math.max(this.options.shufflePool, this.options.batchSize);
    while (!this.closed && !this.failure) {
      while (this.pool.length >= target) {
        await this.waitForSpace();
        if (this.closed) return;
        this.emitBatch();
      }
      await this.visitNext();
      // Let timers, I/O and the training loop run between visits.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  private emitBatch(): void {
    const { batchSize: b, patchSize: p } = this.options;
    const size = p * p * 3;
    const inChannels = inputChannels(this.target);
    const inSize = p * p * inChannels;
    const clean = new Float32Array(b * size);
    const degraded = new Float32Array(b * inSize);
    for (let k = 0; k < b; k++) {
      const i = this.mixRng.int(this.pool.length);
      const patch = this.pool[i]!;
      this.pool[i] = this.pool[this.pool.length - 1]!;
      this.pool.pop();
      clean.set(patch.clean, k * size);
      degraded.set(patch.degraded, k * inSize);
    }
    const batch: PatchBatch = { degraded, clean, batch: b, height: p, width: p, channels: 3, ...(inChannels !== 3 ? { inputChannels: inChannels } : {}), epoch: this.currentEpoch };
    this.counters.batches++;
    if (!this.waiters.resolveNext(batch)) this.queue.push(batch);
  }

  private orderFor(epoch: number): DatasetItem[] {
    return new Rng(deriveSeed(this.options.seed, 'epoch', epoch)).shuffle(this.items);
  }

  /** The next visit in the deterministic plan (items already known to be bad are passed over). */
  private planNext(): Visit | null {
    for (let guard = 0; guard <= this.items.length * 2; guard++) {
      if (this.bad.size >= this.items.length) return null;
      if (this.planPos >= this.planOrder.length) {
        this.planEpoch++;
        this.planPos = 0;
        this.planOrder = this.orderFor(this.planEpoch);
      }
      const item = this.planOrder[this.planPos]!;
      const pos = this.planPos++;
      if (this.bad.has(item.id)) continue;
      return { item, epoch: this.planEpoch, pos, load: this.load(item) };
    }
    return null;
  }

  private fillLookahead(): void {
    while (this.lookahead.length < this.options.decodeAhead + 1) {
      const v = this.planNext();
      if (!v) return;
      this.lookahead.push(v);
    }
  }

  private async visitNext(): Promise<void> {
    this.fillLookahead();
    const visit = this.lookahead.shift();
    if (!visit) {
      this.fail(
        new StudioError(
          'DATASET_EMPTY',
          `None of the ${this.items.length} training images can be used: ${[...this.bad.values()].slice(0, 3).join('; ')}`,
          { bad: Object.fromEntries(this.bad) },
        ),
      );
      return;
    }
    this.fillLookahead();
    const result = await visit.load;
    if (this.closed) return;
    this.counters.visits++;
    this.currentEpoch = visit.epoch;
    if (!result.ok) {
      if (!this.bad.has(visit.item.id)) {
        this.bad.set(visit.item.id, `${result.file}: ${result.reason}`);
        this.onWarning?.({ id: visit.item.id, file: result.file, reason: result.reason });
      }
      return;
    }
    const rng = new Rng(deriveSeed(this.options.seed, 'visit', visit.epoch, visit.pos));
    const { clean, degraded } = result.pair;
    let cleanSrc: PixelSource;
    let degradedSrc: PixelSource;
    if (degraded) {
      cleanSrc = rawSource(clean);
      degradedSrc = rawSource(degraded);
    } else {
      const win = Math.min(this.options.synthWindow, clean.width);
      const winH = Math.min(this.options.synthWindow, clean.height);
      const wx = rng.int(clean.width - win + 1);
      const wy = rng.int(clean.height - winH + 1);
      const cleanWin: RgbImage = { width: win, height: winH, data: cropRect(clean, wx, wy, win, winH) };
      const started = performance.now();
      const synth = await synthesize(cleanWin, this.recipe!, rng.fork('synth'));
      this.counters.synthMs += performance.now() - started;
      if (this.closed) return;
      const pair = trainingPair(this.target, cleanWin.data, synth, rng.fork('target'));
      cleanSrc = floatSource({ width: win, height: winH, data: pair.target });
      degradedSrc = { ...floatSource({ width: win, height: winH, data: pair.input }), channels: inputChannels(this.target) };
    }
    const { patchSize: p, patchesPerImage, augment } = this.options;
    const size = p * p * 3;
    const inSize = p * p * inputChannels(this.target);
    for (let k = 0; k < patchesPerImage; k++) {
      const x0 = rng.int(cleanSrc.width - p + 1);
      const y0 = rng.int(cleanSrc.height - p + 1);
      const t = augment ? rng.int(8) : 0;
      const patch: Patch = { clean: new Float32Array(size), degraded: new Float32Array(inSize) };
      extractPatch(cleanSrc, x0, y0, p, t, patch.clean, 0);
      extractPatch(degradedSrc, x0, y0, p, t, patch.degraded, 0);
      this.pool.push(patch);
    }
    this.counters.patches += patchesPerImage;
  }

  private approxImageBytes(): number {
    return this.cache.size > 0 ? this.cache.bytes / this.cache.size : 0;
  }

  private load(item: DatasetItem): Promise<LoadResult> {
    const cached = this.cache.get(item.id);
    if (cached) return Promise.resolve({ ok: true, pair: cached });
    const pending = this.inflight.get(item.id);
    if (pending) return pending;
    const promise = this.decodePair(item).then((result) => {
      this.inflight.delete(item.id);
      if (result.ok && !this.closed) {
        const bytes = result.pair.clean.data.byteLength + (result.pair.degraded?.data.byteLength ?? 0);
        this.cache.set(item.id, result.pair, bytes);
      }
      return result;
    });
    this.inflight.set(item.id, promise);
    return promise;
  }

  private async decodePair(item: DatasetItem): Promise<LoadResult> {
    this.counters.decodes++;
    const decode = async (path: string): Promise<RawRgbImage | { file: string; reason: string }> => {
      try {
        return (await decodeImageFile(path)).image;
      } catch (error) {
        return { file: path, reason: decodeFailureReason(error) };
      }
    };
    const [clean, degraded] = await Promise.all([decode(item.clean), item.degraded ? decode(item.degraded) : Promise.resolve(undefined)]);
    if ('reason' in clean) return { ok: false, ...clean };
    if (degraded && 'reason' in degraded) return { ok: false, ...degraded };
    const p = this.options.patchSize;
    if (degraded && (degraded.width !== clean.width || degraded.height !== clean.height)) {
      return {
        ok: false,
        file: item.degraded!,
        reason: `size ${degraded.width}x${degraded.height} differs from the clean image's ${clean.width}x${clean.height}`,
      };
    }
    if (clean.width < p || clean.height < p) {
      return { ok: false, file: item.clean, reason: `${clean.width}x${clean.height} is smaller than the ${p}px patch` };
    }
    return { ok: true, pair: { clean, degraded } };
  }
}
