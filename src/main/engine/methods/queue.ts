// The app's queue requests, run in the engine because sending a folder loads the model once to pin its
// fingerprint (the same code as `studio queue add`); status only reads Redis.
import { resolve } from 'node:path';
import type { QueueAddParams, QueueAddResult, QueueStatus } from '#shared/queue';
import { parseRedisUrl } from '../../queue/jobs';
import { enqueuePhotos, photosToQueue } from '../../queue/enqueue';
import { queueStatus, withQueue } from '../../queue/status';
import { defaultOutputDir } from '../infer/batch';
import { DEFAULT_RESTORE_MODEL } from '../infer/model';

export async function queueAdd(params: QueueAddParams): Promise<QueueAddResult> {
  const url = parseRedisUrl(params.redis);
  const input = resolve(params.input);
  const out = resolve(params.out ?? defaultOutputDir(input));
  const photos = await photosToQueue(input, out, params.recursive);
  return enqueuePhotos({
    ...photos,
    url,
    out,
    model: params.model ?? DEFAULT_RESTORE_MODEL,
    lookup: params.modelsDir ? { modelsDir: params.modelsDir } : {},
    format: params.format,
    quality: params.quality,
    ...(params.tone ? { tone: params.tone } : {}),
    ...(params.repair ? { repair: params.repair, ...(params.repairModel ? { repairModel: params.repairModel } : {}), ...(params.fillModel ? { fillModel: params.fillModel } : {}) } : {}),
  });
}

export async function queueStatusAt(redis: string): Promise<QueueStatus> {
  return withQueue(parseRedisUrl(redis), queueStatus);
}
