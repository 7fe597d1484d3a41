// Messages between WorkerPatchSampler (training thread) and sampler-worker.ts (data thread).
import type { ErrorEnvelope } from '#shared/rpc/errors';
import type { SamplerStats, SamplerWarning } from './sampler';
import type { PatchBatch } from './types';

export type ToWorker = { type: 'credit'; n: number } | { type: 'close' };

export type FromWorker =
  | { type: 'ready' }
  | { type: 'batch'; batch: PatchBatch; stats: SamplerStats }
  | { type: 'warning'; warning: SamplerWarning }
  | { type: 'error'; error: ErrorEnvelope }
  | { type: 'closed' }
  /** The worker's code could not be loaded (sent by the bootstrap, before the sampler exists). */
  | { type: 'bootfail'; message: string };
