// The Redis restore queue as the UI and `studio queue status --json` see it: what sending a folder returns
// and the cluster's progress (counts, failures with reasons, rate, ETA).
import { z } from 'zod';
import { RestoreParamsSchema } from './restore';

export const QueueStatusSchema = z.object({
  waiting: z.number().int().nonnegative(),
  active: z.number().int().nonnegative(),
  completed: z.number().int().nonnegative(),
  failed: z.number().int().nonnegative(),
  /** Failed attempts waiting for their retry. */
  delayed: z.number().int().nonnegative(),
  /** The first failures, each with its photo (relative to the folder it was added from) and reason. */
  failures: z.array(z.object({ file: z.string(), reason: z.string() })),
  /** Photos finished per second over the last minute. */
  photosPerSecond: z.number().nonnegative(),
  /** null while nothing has finished lately (no rate to go by). */
  etaSeconds: z.number().nonnegative().nullable(),
});
export type QueueStatus = z.infer<typeof QueueStatusSchema>;

export const QueueAddResultSchema = z.object({
  added: z.number().int().nonnegative(),
  alreadyQueued: z.number().int().nonnegative(),
  found: z.number().int().nonnegative(),
  out: z.string(),
  model: z.string(),
  fingerprint: z.string(),
});
export type QueueAddResult = z.infer<typeof QueueAddResultSchema>;

/** The app's "Send to the queue": the opened folder with the Restore view's options (the Redis URL is Settings'). */
export const QueueSendParamsSchema = RestoreParamsSchema.pick({ input: true, out: true, model: true, recursive: true, format: true, quality: true, tone: true, repair: true, repairModel: true, fillModel: true }).strict();
export type QueueSendParams = z.output<typeof QueueSendParamsSchema>;

/** What the engine is asked: the same, with the queue's Redis and the models folder to hash the model from. */
export const QueueAddParamsSchema = QueueSendParamsSchema.extend({ redis: z.string().min(1), modelsDir: z.string().min(1).optional() }).strict();
export type QueueAddParams = z.output<typeof QueueAddParamsSchema>;
