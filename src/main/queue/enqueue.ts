// Putting photos on the queue, shared by `studio queue add` and the app's "Send to queue": which photos (a
// folder, or a list file), where their outputs go, the model's fingerprint, and one job per photo whose id
// makes a second add of the same photo a no-op.
import { stat } from 'node:fs/promises';
import { resolve, sep } from 'node:path';
import type { QueueAddResult } from '#shared/queue';
import { StudioError } from '#shared/rpc/errors';
import { listImages, planOutputs } from '../engine/infer/batch';
import { DEFAULT_DAMAGE_MODEL, loadDamageDetector, loadRestoreModel, type ModelLookup } from '../engine/infer/model';
import { loadRepairFiller } from '../engine/infer/learned-fill';
import type { FormatChoice } from '../engine/infer/photo';
import { connectRedis, jobIdFor, type RestoreJob } from './jobs';
import { readPhotoList, type SkippedEntry } from './list-file';
import { withQueue } from './status';

export interface PhotosToQueue {
  /** Outputs mirror the inputs' paths below this folder. */
  root: string;
  inputs: string[];
  /** List-file entries left out, each with a sentence. */
  skipped: SkippedEntry[];
}

/** The photos of a folder (optionally with its subfolders) or of a list file, checked against the output folder. */
export async function photosToQueue(target: string, out: string, recursive: boolean): Promise<PhotosToQueue> {
  const path = resolve(target);
  const info = await stat(path).catch(() => null);
  if (!info) throw new StudioError('NOT_FOUND', `There is no folder or list file at ${path}.`);
  let found: PhotosToQueue;
  if (info.isDirectory()) {
    if (out === path) throw new StudioError('BAD_INPUT', `The output folder cannot be the input folder (${path}): originals are never overwritten. Choose another output folder.`);
    const inputs = await listImages(path, recursive, [out]);
    if (inputs.length === 0) {
      throw new StudioError('NOT_FOUND', `No images found in ${path}${recursive ? ' or its subfolders' : '. Add --recursive to include subfolders'}.`, { reason: 'NO_IMAGES' });
    }
    found = { root: path, inputs, skipped: [] };
  } else {
    found = await readPhotoList(path);
    if (found.inputs.length === 0) {
      throw new StudioError('NOT_FOUND', `No photos to queue: every entry of ${path} was skipped.`, { reason: 'NO_IMAGES', skipped: found.skipped });
    }
  }
  if (found.inputs.some((input) => input.startsWith(out + sep))) {
    throw new StudioError('BAD_INPUT', `Some photos are inside the output folder ${out}; choose an output folder outside the photos.`);
  }
  return found;
}

export interface EnqueueRequest extends PhotosToQueue {
  url: string;
  out: string;
  /** Model id or folder, as the workers will look it up. */
  model: string;
  lookup?: ModelLookup;
  format: FormatChoice;
  quality: number;
  /** Tone stage strength (0-1); absent or 0: off. */
  tone?: number;
  /** Repair stage strength (0-1); absent or 0: off. */
  repair?: number;
  /** The damage detector for repair (default: the bundled "damage"). */
  repairModel?: string;
  /** The damage filler for repair's holes (default: the bundled "fill" when installed; NO_MODEL: none). */
  fillModel?: string;
}

const ADD_CHUNK = 500;

/** Adds one job per photo (the engine's backend must be ready: the model is loaded once to hash it). */
export async function enqueuePhotos(request: EnqueueRequest): Promise<QueueAddResult> {
  const { url, root, inputs, out, format, quality } = request;
  // Check Redis before the (slower) model load, so a wrong URL is a sentence at once.
  (await connectRedis(url)).disconnect();
  const model = await loadRestoreModel(request.model, request.lookup ?? {});
  const fingerprint = model.fingerprint;
  model.dispose();
  // The detector is pinned as the model is: a worker with another one refuses the job.
  let repair: Pick<RestoreJob, 'repair' | 'repairModel' | 'repairFingerprint' | 'fillModel' | 'fillFingerprint'> = {};
  if (request.repair) {
    const repairModel = request.repairModel ?? DEFAULT_DAMAGE_MODEL;
    const detector = await loadDamageDetector(repairModel, request.lookup ?? {});
    repair = { repair: request.repair, repairModel, repairFingerprint: detector.fingerprint };
    detector.dispose();
    // The filler (the bundled one when installed and none is named) is pinned the same way.
    const filler = await loadRepairFiller(request.fillModel, request.lookup ?? {});
    if (filler) repair = { ...repair, fillModel: request.fillModel ?? filler.id, fillFingerprint: filler.fingerprint };
    filler?.dispose();
  }

  const planned = planOutputs(root, out, inputs, format);
  let added = 0;
  let already = 0;
  await withQueue(url, async (queue, client) => {
    for (let i = 0; i < planned.length; i += ADD_CHUNK) {
      const jobs = [];
      for (const plan of planned.slice(i, i + ADD_CHUNK)) {
        const data: RestoreJob = { root, file: plan.file, out, output: plan.outputRel, model: request.model, fingerprint, format, quality, ...(request.tone ? { tone: request.tone } : {}), ...repair };
        const size = (await stat(plan.input)).size;
        jobs.push({ name: 'restore', data, opts: { jobId: await jobIdFor(plan.input, size, data), attempts: 3, backoff: { type: 'fixed', delay: 1000 } } });
      }
      const pipeline = client.pipeline();
      for (const job of jobs) pipeline.exists(queue.toKey(job.opts.jobId));
      const exists = (await pipeline.exec()) ?? [];
      const fresh = jobs.filter((_, k) => exists[k]?.[1] !== 1);
      already += jobs.length - fresh.length;
      if (fresh.length > 0) await queue.addBulk(fresh);
      added += fresh.length;
    }
  });
  return { added, alreadyQueued: already, found: inputs.length, out, model: request.model, fingerprint };
}
