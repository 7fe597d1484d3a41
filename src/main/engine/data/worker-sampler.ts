// Runs the patch sampler in a worker thread so decoding and degradation synthesis never take time from the
// training thread (the JS thread tfjs runs on). Same seed → same batches as the in-process sampler.
//
// Finding the worker's code: from sources (tsx) it is sampler-worker.ts, loaded through tsx's API; from a
// bundle it is `data-worker.js` next to the bundle (the build must emit that entry from
// src/main/engine/data/sampler-worker.ts). When neither works, createPatchSampler falls back to the
// in-process sampler and says why in `fallbackReason`.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { StudioError } from '#shared/rpc/errors';
import { type SamplerOptions, type SamplerStats, StreamingPatchSampler, resolveSamplerOptions } from './sampler';
import type { PatchBatch, PatchSampler } from './types';
import { cancelled, Waiters } from './waiters';
import type { FromWorker, ToWorker } from './worker-protocol';

export type SamplerThread = 'auto' | 'worker' | 'main';

export interface CreateSamplerOptions extends SamplerOptions {
  /** 'worker' runs decoding and synthesis on a worker thread, 'main' in this thread; 'auto' (default)
   *  tries a worker and falls back to this thread. */
  thread?: SamplerThread;
}

/** What createPatchSampler returns: a PatchSampler plus where it runs and its counters. */
export interface ManagedPatchSampler extends PatchSampler {
  readonly mode: 'worker' | 'main';
  /** Why a worker was not used when thread was 'auto'. */
  readonly fallbackReason?: string;
  stats(): SamplerStats;
}

function startWorker(options: Omit<SamplerOptions, 'onWarning'>): Worker {
  const here = import.meta.url;
  if (here.endsWith('.ts')) {
    const entry = new URL('./sampler-worker.ts', here).href;
    const tsxApi = import.meta.resolve('tsx/esm/api');
    const bootstrap = `
      const { parentPort, workerData } = require('node:worker_threads');
      import(workerData.tsxApi)
        .then((api) => api.tsImport(workerData.entry, workerData.parent))
        .catch((error) => parentPort.postMessage({ type: 'bootfail', message: String((error && error.message) || error) }));`;
    return new Worker(bootstrap, { eval: true, workerData: { options, entry, parent: here, tsxApi } });
  }
  const dir = dirname(fileURLToPath(here));
  const candidates = [join(dir, 'data-worker.js'), join(dir, '..', 'data-worker.js'), join(dir, 'sampler-worker.js')];
  const found = candidates.find((c) => existsSync(c));
  if (!found) throw new Error(`the data worker bundle (data-worker.js) is missing next to ${dir}`);
  return new Worker(found, { workerData: { options } });
}

export class WorkerPatchSampler implements ManagedPatchSampler {
  readonly mode = 'worker' as const;
  private readonly queue: PatchBatch[] = [];
  private readonly waiters = new Waiters<PatchBatch>(() => this.updateRef());
  private failure: Error | null = null;
  private closed = false;
  private lastStats: SamplerStats | null = null;
  private closedPromise: Promise<void> | null = null;

  private constructor(
    private readonly worker: Worker,
    private readonly prefetch: number,
    private readonly onWarning?: SamplerOptions['onWarning'],
  ) {}

  /** Starts the worker and resolves once it has built its sampler (rejects with the reason otherwise). */
  static async start(options: SamplerOptions, startTimeoutMs = 60_000): Promise<WorkerPatchSampler> {
    const resolved = resolveSamplerOptions(options);
    const { onWarning, ...plain } = options;
    const worker = startWorker(plain);
    const sampler = new WorkerPatchSampler(worker, resolved.prefetchBatches, onWarning);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the data worker did not start in time')), startTimeoutMs);
      const cleanup = (): void => {
        clearTimeout(timer);
        worker.off('message', onMessage);
        worker.off('error', onError);
        worker.off('exit', onExit);
      };
      const onMessage = (m: FromWorker): void => {
        if (m.type === 'ready') {
          cleanup();
          resolve();
        } else if (m.type === 'error') {
          cleanup();
          reject(StudioError.fromEnvelope(m.error));
        } else if (m.type === 'bootfail') {
          cleanup();
          reject(new Error(`the data worker failed to load: ${m.message}`));
        }
      };
      const onError = (error: Error): void => {
        cleanup();
        reject(error);
      };
      const onExit = (code: number): void => {
        cleanup();
        reject(new Error(`the data worker exited (code ${code}) before starting`));
      };
      worker.on('message', onMessage);
      worker.on('error', onError);
      worker.on('exit', onExit);
    }).catch(async (error: unknown) => {
      await worker.terminate();
      throw error;
    });
    sampler.listen();
    sampler.send({ type: 'credit', n: resolved.prefetchBatches });
    return sampler;
  }

  private send(message: ToWorker): void {
    this.worker.postMessage(message);
  }

  /** Keeps the process alive only while someone waits for a batch, so a forgotten close() cannot hang it. */
  private updateRef(): void {
    if (this.waiters.length > 0 && !this.closed) this.worker.ref();
    else this.worker.unref();
  }

  private listen(): void {
    this.worker.on('message', (m: FromWorker) => {
      if (m.type === 'batch') {
        this.lastStats = m.stats;
        if (this.waiters.length > 0) {
          this.send({ type: 'credit', n: 1 });
          this.waiters.resolveNext(m.batch);
        } else this.queue.push(m.batch);
        this.updateRef();
      } else if (m.type === 'warning') {
        this.onWarning?.(m.warning);
      } else if (m.type === 'error') {
        this.fail(StudioError.fromEnvelope(m.error));
      }
    });
    this.worker.on('error', (error) => this.fail(error));
    this.worker.on('exit', (code) => {
      if (!this.closed) this.fail(new StudioError('INTERNAL', `The data worker stopped unexpectedly (exit code ${code}).`));
    });
    this.updateRef();
  }

  private fail(error: Error): void {
    if (this.failure || this.closed) return;
    this.failure = error;
    this.waiters.rejectAll(error);
    this.updateRef();
  }

  nextBatch(signal?: AbortSignal): Promise<PatchBatch> {
    if (signal?.aborted || this.closed) return Promise.reject(cancelled());
    if (this.failure) return Promise.reject(this.failure);
    const ready = this.queue.shift();
    if (ready) {
      this.send({ type: 'credit', n: 1 });
      return Promise.resolve(ready);
    }
    const waiting = this.waiters.wait(signal);
    this.updateRef();
    return waiting;
  }

  close(): Promise<void> {
    if (this.closedPromise) return this.closedPromise;
    this.closed = true;
    this.waiters.rejectAll(cancelled());
    this.queue.length = 0;
    this.worker.ref();
    this.closedPromise = new Promise<void>((resolve) => {
      const timer = setTimeout(() => void this.worker.terminate(), 5_000);
      this.worker.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      this.worker.on('message', (m: FromWorker) => {
        if (m.type === 'closed') void this.worker.terminate();
      });
      try {
        this.send({ type: 'close' });
      } catch {
        void this.worker.terminate();
      }
    });
    return this.closedPromise;
  }

  stats(): SamplerStats {
    const base: SamplerStats = this.lastStats ?? {
      batches: 0,
      patches: 0,
      visits: 0,
      epoch: 0,
      decodes: 0,
      cacheHits: 0,
      cacheEntries: 0,
      cacheBytes: 0,
      badItems: 0,
      queued: 0,
      waits: 0,
      waitMs: 0,
      synthMs: 0,
      heldBytes: 0,
    };
    return { ...base, queued: base.queued + this.queue.length, waits: this.waiters.waits, waitMs: this.waiters.waitMs };
  }
}

class MainThreadSampler extends StreamingPatchSampler implements ManagedPatchSampler {
  readonly mode = 'main' as const;
  constructor(
    options: SamplerOptions,
    readonly fallbackReason?: string,
  ) {
    super(options);
  }
}

/** The sampler the training loop should use: on a worker thread when possible (see CreateSamplerOptions). */
export async function createPatchSampler(options: CreateSamplerOptions): Promise<ManagedPatchSampler> {
  const { thread = 'auto', ...rest } = options;
  resolveSamplerOptions(rest); // validate before starting anything
  if (rest.items.length === 0) throw new StudioError('DATASET_EMPTY', 'There are no training images to sample patches from.');
  if (thread === 'main') return new MainThreadSampler(rest);
  try {
    return await WorkerPatchSampler.start(rest);
  } catch (error) {
    if (thread === 'worker' || error instanceof StudioError) throw error;
    return new MainThreadSampler(rest, `worker thread unavailable: ${(error as Error).message}`);
  }
}
