// Test helpers: a tiny in-memory PatchSampler over generated images (smooth clean patches, noisy degraded
// copies), deterministic per batch index so a resumed run can see the same batches as an uninterrupted one.
import type { PatchBatch, PatchSampler } from '../../../src/main/engine/data/types';
import { mulberry32 } from '../../helpers/random';

export { mulberry32 };

/** A smooth clean patch (sum of two random sinusoids per channel) in [0.1, 0.9]. */
export function smoothPatch(rand: () => number, size: number): Float32Array {
  const out = new Float32Array(size * size * 3);
  const params = Array.from({ length: 3 }, () => [rand() * 0.6, rand() * 0.6, rand() * 6.28, 0.3 + rand() * 0.4] as const);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      for (let c = 0; c < 3; c++) {
        const [fx, fy, ph, base] = params[c]!;
        out[(y * size + x) * 3 + c] = base + 0.2 * Math.sin(fx * x + fy * y + ph);
      }
    }
  }
  return out;
}

/** Batch `index` of a deterministic stream: clean smooth patches and copies with Gaussian-ish noise. */
export function makeBatch(index: number, batch: number, size: number, noise = 0.1, seed = 1): PatchBatch {
  const rand = mulberry32(seed * 100003 + index * 7919);
  const n = size * size * 3;
  const clean = new Float32Array(batch * n);
  const degraded = new Float32Array(batch * n);
  for (let b = 0; b < batch; b++) {
    const patch = smoothPatch(rand, size);
    clean.set(patch, b * n);
    for (let i = 0; i < n; i++) {
      const g = (rand() + rand() + rand() - 1.5) * 2; // ~N(0, 1)
      degraded[b * n + i] = Math.min(1, Math.max(0, patch[i]! + noise * g));
    }
  }
  return { degraded, clean, batch, height: size, width: size, channels: 3 };
}

export class MemorySampler implements PatchSampler {
  next: number;
  closed = false;
  /** Optional hook run before each batch is handed out (tests abort from here). */
  onBatch?: (index: number) => void;

  constructor(
    readonly batch: number,
    readonly size: number,
    start = 0,
    readonly seed = 1,
  ) {
    this.next = start;
  }

  async nextBatch(signal?: AbortSignal): Promise<PatchBatch> {
    if (signal?.aborted) throw Object.assign(new Error('aborted'), { name: 'AbortError' });
    const index = this.next++;
    this.onBatch?.(index);
    return makeBatch(index, this.batch, this.size, 0.1, this.seed);
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

/** Fixed validation crops (a different seed from training). */
export function validationSet(batches: number, batch: number, size: number): PatchBatch[] {
  return Array.from({ length: batches }, (_, i) => makeBatch(i, batch, size, 0.1, 999));
}
