// The restore queue's shared parts: its name, what a job carries (checked with zod on both sides), how a job
// id is made (the same photo added twice is one job), and Redis connections that fail fast with a sentence.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { Redis, type RedisOptions } from 'ioredis';
import { z } from 'zod';
import { StudioError } from '#shared/rpc/errors';
import { FORMAT_CHOICES } from '../engine/infer/photo';

/** The BullMQ queue every `studio queue` command and `studio worker` uses. */
export const QUEUE_NAME = 'studio-restore';

/** Where a worker records what it wrote, beside the outputs (hidden: never mistaken for a photo). */
export const MARKER_DIR = '.studio-queue';

export const restoreJobSchema = z.object({
  /** Absolute folder the photos were added from. */
  root: z.string().min(1),
  /** The photo, relative to `root`. */
  file: z.string().min(1),
  /** Absolute output folder. */
  out: z.string().min(1),
  /** The output file, relative to `out` (same name rules as `studio restore`). */
  output: z.string().min(1),
  /** Model id or folder, as given to `queue add`. */
  model: z.string().min(1),
  /** Content hash of the model's files: a worker whose model differs refuses the job. */
  fingerprint: z.string().min(1),
  format: z.enum(FORMAT_CHOICES as [string, ...string[]]),
  quality: z.number().int().min(1).max(100),
  /** Automatic tone and colour after the model at this strength (as `studio restore --tone`); absent: off. */
  tone: z.number().min(0).max(1).optional(),
  /** Damage repair before the model at this strength (as `studio restore --repair`); absent: off. */
  repair: z.number().min(0).max(1).optional(),
  /** The damage detector's id or folder, and its fingerprint (pinned like the model's), when repair is on. */
  repairModel: z.string().min(1).optional(),
  repairFingerprint: z.string().min(1).optional(),
  /** The damage filler's id or folder and fingerprint, when repair is on and one was installed where the job was queued. */
  fillModel: z.string().min(1).optional(),
  fillFingerprint: z.string().min(1).optional(),
});

export type RestoreJob = z.infer<typeof restoreJobSchema>;

/** The settings an output was made with: a retried job whose output has them is not written again. */
export function jobSettings(job: RestoreJob): string {
  // As restoreBatch's settings: tone and repair only when on, so jobs queued before they existed keep their ids.
  return (
    `${job.fingerprint}|${job.format}|${job.quality}${job.tone ? `|tone ${job.tone}` : ''}` +
    (job.repair ? `|repair ${job.repair} ${job.repairFingerprint ?? ''}` : '') +
    (job.repair && job.fillFingerprint ? ` fill ${job.fillFingerprint}` : '')
  );
}

/** sha256 of a file, read as a stream. */
export async function fileHash(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * The job id: sha256 of the photo's absolute path, size and content, and of where and how it is restored.
 * BullMQ ignores an add whose id exists, so adding the same folder twice adds nothing twice.
 */
export async function jobIdFor(absolutePath: string, size: number, job: Omit<RestoreJob, 'root' | 'file'>): Promise<string> {
  const hash = createHash('sha256');
  for (const part of [absolutePath, String(size), await fileHash(absolutePath), job.out, job.output, jobSettings({ ...job, root: '', file: '' })]) {
    hash.update(part).update('\0');
  }
  // A custom BullMQ id must not look like a number.
  return `p${hash.digest('hex')}`;
}

/** Checks a --redis value; a sentence when it is not a redis:// or rediss:// URL. */
export function parseRedisUrl(value: string | undefined): string {
  if (!value) throw new StudioError('BAD_INPUT', 'Give the queue\'s Redis with --redis, e.g. --redis redis://localhost:6379.');
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new StudioError('BAD_INPUT', `--redis must be a URL like redis://host:6379 (got "${value}").`);
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    throw new StudioError('BAD_INPUT', `--redis must start with redis:// or rediss:// (got "${value}").`);
  }
  if (!url.hostname) throw new StudioError('BAD_INPUT', `--redis names no host (got "${value}").`);
  return value;
}

const CONNECT_TIMEOUT_MS = 3000;

/**
 * A connection that is known to work: connects, pings, and turns a refusal, an unknown host or a timeout into
 * a sentence within a few seconds. `persistent` (workers) reconnects forever after that first success, as
 * BullMQ workers need (maxRetriesPerRequest: null); otherwise a lost connection fails the command.
 */
export async function connectRedis(url: string, options: { persistent?: boolean } = {}): Promise<Redis> {
  let lastError: Error | null = null;
  let connected = false;
  const redisOptions: RedisOptions = {
    lazyConnect: true,
    connectTimeout: CONNECT_TIMEOUT_MS,
    maxRetriesPerRequest: options.persistent ? null : 1,
    enableOfflineQueue: true,
    retryStrategy: (times) => (connected && options.persistent ? Math.min(times * 200, 2000) : null),
  };
  const client = new Redis(url, redisOptions);
  client.on('error', (error: Error) => {
    lastError = error;
  });
  try {
    await Promise.race([
      client.connect().then(() => client.ping()),
      new Promise((_, reject) => setTimeout(() => reject(new Error(`no answer within ${CONNECT_TIMEOUT_MS / 1000} s`)), CONNECT_TIMEOUT_MS + 500).unref()),
    ]);
    connected = true;
    return client;
  } catch (error) {
    client.disconnect();
    const cause = lastError ?? (error as Error);
    const code = (cause as NodeJS.ErrnoException).code;
    const why =
      code === 'ECONNREFUSED'
        ? 'nothing is listening there (is redis-server running?)'
        : code === 'ENOTFOUND' || code === 'EAI_AGAIN'
          ? 'the host name is unknown'
          : /NOAUTH|WRONGPASS/.test(cause.message)
            ? 'the password is wrong or missing'
            : cause.message;
    throw new StudioError('ENGINE_UNAVAILABLE', `Cannot reach Redis at ${redact(url)}: ${why}.`);
  }
}

/** The URL without its password, for messages. */
export function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url;
  }
}
