import { hostname } from 'node:os';
import { relative } from 'node:path';
import { parseArgs } from 'node:util';
import { Worker, type Job } from 'bullmq';
import type { CliCommand } from '../command';
import { StudioError } from '#shared/rpc/errors';
import { initBackend } from '../../engine/backend';
import { applyBackendFlag } from '../options';
import { connectRedis, parseRedisUrl, QUEUE_NAME, type RestoreJob } from '../../queue/jobs';
import { ModelCache, processRestoreJob, type JobResult } from '../../queue/worker';
import { cliModelsDir } from '../engine';

function positive(value: string | undefined, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new StudioError('BAD_INPUT', `${flag} needs a positive number (got "${value}").`);
  return n;
}

export const workerCommand: CliCommand = {
  name: 'worker',
  summary: 'Restore photos from a Redis queue (filled by `studio queue add`) until stopped.',
  usage: `Usage: studio worker --redis <url> [options]

Takes restore jobs from the queue and restores each photo with the same code as \`studio restore\` (tiles,
EXIF/ICC, atomic writes) into the job's output folder. The model a job names is loaded once; a job queued
with another model (its files hash differently) is refused. A photo that cannot be read fails with its reason
and is not retried. A worker that dies mid-job has its job taken over by another after --lock-seconds; a
finished output is never written twice. SIGTERM or Ctrl+C: the current jobs are finished, then it exits.

Options:
  --redis <url>         redis://[user:password@]host:port[/db]
  --concurrency <n>     jobs at once in this process (default 1)
  --models-dir <dir>    the models folder to find job models in
  --lock-seconds <s>    how long a silent worker keeps a job before another takes it (default 30)
  --backend <name>      auto, tensorflow, wasm or cpu

Each finished photo is one line on stderr ("done <file> → <output>" or "FAILED <file>: <reason>").`,
  async run(args, io, signal) {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: {
        redis: { type: 'string' },
        concurrency: { type: 'string' },
        'models-dir': { type: 'string' },
        'lock-seconds': { type: 'string' },
        backend: { type: 'string' },
      },
    });
    if (positionals.length > 0) throw new StudioError('BAD_INPUT', `worker takes no folder (got "${positionals[0]}"); the jobs say what to restore.`);
    const url = parseRedisUrl(values.redis);
    const concurrency = positive(values.concurrency, '--concurrency', 1);
    if (!Number.isInteger(concurrency)) throw new StudioError('BAD_INPUT', `--concurrency needs a whole number (got "${values.concurrency}").`);
    const lockMs = Math.round(positive(values['lock-seconds'], '--lock-seconds', 30) * 1000);
    applyBackendFlag(values.backend);
    const backend = await initBackend();
    const modelsDir = await cliModelsDir(values['models-dir']);
    const models = new ModelCache(modelsDir ? { modelsDir } : {});
    const connection = await connectRedis(url, { persistent: true });
    connection.on('error', () => {}); // reconnects; BullMQ reports lasting trouble itself
    // Stored on every job this worker takes (BullMQ's processedBy), so status and tests can tell who has what.
    const name = `${hostname()}:${process.pid}`;

    const worker = new Worker<RestoreJob, JobResult>(
      QUEUE_NAME,
      async (job: Job<RestoreJob, JobResult>) => {
        let last = 0;
        return processRestoreJob(job.id!, job.data, models, (fraction) => {
          const now = Date.now();
          if (now - last < 1000 && fraction < 1) return;
          last = now;
          void job.updateProgress(Math.round(fraction * 100)).catch(() => {});
        });
      },
      { connection, name, concurrency, lockDuration: lockMs, stalledInterval: lockMs, maxStalledCount: 2, autorun: false },
    );
    worker.on('completed', (job, result) => {
      const output = relative(job.data.out, result.output);
      io.err(result.alreadyDone ? `skipped ${job.data.file} → ${output} (already restored)` : `done ${job.data.file} → ${output} (${result.megapixels.toFixed(2)} MP in ${result.seconds.toFixed(1)}s)`);
    });
    worker.on('failed', (job, error) => {
      if (job) io.err(`FAILED ${job.data?.file ?? job.id}: ${error.message}`);
    });
    worker.on('error', (error) => io.err(`worker: ${error.message}`));

    const stop = new Promise<void>((resolve) => {
      if (signal.aborted) resolve();
      signal.addEventListener('abort', () => resolve(), { once: true });
    });
    io.err(`Worker ${name} on ${backend.backend}, ${concurrency} at a time, waiting for jobs on ${QUEUE_NAME}.`);
    const running = worker.run();
    await Promise.race([running, stop]);
    io.err('Stopping: finishing the current jobs…');
    await worker.close();
    await running.catch(() => {});
    connection.disconnect();
    await models.dispose();
    io.err('Worker stopped.');
    return 0;
  },
};
