// Worker-thread entry of the patch sampler: runs a StreamingPatchSampler off the training thread and posts
// finished batches (buffers transferred, not copied) as the parent grants credits. See worker-sampler.ts.
import { parentPort, workerData } from 'node:worker_threads';
import { toErrorEnvelope } from '#shared/rpc/errors';
import { StreamingPatchSampler, type SamplerOptions } from './sampler';
import type { ToWorker, FromWorker } from './worker-protocol';

const port = parentPort;
if (!port) throw new Error('sampler-worker must run in a worker thread');

function post(message: FromWorker, transfer: ArrayBuffer[] = []): void {
  port!.postMessage(message, transfer);
}

let sampler: StreamingPatchSampler | null = null;
try {
  const options = (workerData as { options: Omit<SamplerOptions, 'onWarning'> }).options;
  sampler = new StreamingPatchSampler({ ...options, onWarning: (warning) => post({ type: 'warning', warning }) });
  post({ type: 'ready' });
} catch (error) {
  post({ type: 'error', error: toErrorEnvelope(error) });
}

let credit = 0;
let pumping = false;
let closing = false;

async function pump(): Promise<void> {
  if (pumping || !sampler) return;
  pumping = true;
  try {
    while (credit > 0 && !closing) {
      const batch = await sampler.nextBatch();
      if (closing) break;
      credit--;
      post({ type: 'batch', batch, stats: sampler.stats() }, [batch.clean.buffer as ArrayBuffer, batch.degraded.buffer as ArrayBuffer]);
    }
  } catch (error) {
    if (!closing) post({ type: 'error', error: toErrorEnvelope(error) });
  } finally {
    pumping = false;
  }
}

port.on('message', (message: ToWorker) => {
  if (message.type === 'credit') {
    credit += message.n;
    void pump();
  } else if (message.type === 'close') {
    closing = true;
    void (sampler?.close() ?? Promise.resolve()).finally(() => {
      post({ type: 'closed' });
      port!.close();
    });
  }
});
