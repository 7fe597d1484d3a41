// Reading and managing the queue from outside a worker: a short-lived connection per command, and the
// progress summary `studio queue status` prints and the app polls.
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { QueueStatus } from '#shared/queue';
import { connectRedis, QUEUE_NAME, type RestoreJob } from './jobs';

/** Opens the queue on a checked connection, runs `use`, and always closes both. */
export async function withQueue<T>(url: string, use: (queue: Queue, client: Redis) => Promise<T>): Promise<T> {
  const client = await connectRedis(url);
  const queue = new Queue(QUEUE_NAME, { connection: client });
  try {
    return await use(queue, client);
  } finally {
    await queue.close().catch(() => {});
    client.disconnect();
  }
}

const FAILURES_LISTED = 50;
const RATE_WINDOW_MS = 60_000;

export async function queueStatus(queue: Queue): Promise<QueueStatus> {
  const counts = await queue.getJobCounts('waiting', 'prioritized', 'paused', 'active', 'completed', 'failed', 'delayed');
  const failedJobs = await queue.getFailed(0, FAILURES_LISTED - 1);
  const recent = await queue.getCompleted(0, 999);
  const now = Date.now();
  const inWindow = recent.filter((j) => j.finishedOn && now - j.finishedOn <= RATE_WINDOW_MS);
  const earliest = Math.min(...inWindow.map((j) => j.processedOn ?? j.finishedOn!));
  const span = inWindow.length > 0 ? Math.max(1, now - earliest) / 1000 : 0;
  const photosPerSecond = span > 0 ? inWindow.length / span : 0;
  const waiting = (counts.waiting ?? 0) + (counts.prioritized ?? 0) + (counts.paused ?? 0);
  const left = waiting + (counts.active ?? 0) + (counts.delayed ?? 0);
  return {
    waiting,
    active: counts.active ?? 0,
    completed: counts.completed ?? 0,
    failed: counts.failed ?? 0,
    delayed: counts.delayed ?? 0,
    failures: failedJobs.map((j) => ({ file: String((j.data as Partial<RestoreJob> | undefined)?.file ?? j.id), reason: j.failedReason ?? 'unknown' })),
    photosPerSecond: Number(photosPerSecond.toFixed(3)),
    etaSeconds: left === 0 ? 0 : photosPerSecond > 0 ? Math.round(left / photosPerSecond) : null,
  };
}
