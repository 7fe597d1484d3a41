// What a `studio worker` does with one job: the same steps as `studio restore` for one planned file (readPhoto
// → restorePhoto → encode → atomic write), with a marker beside the outputs so a retried job never writes a
// finished photo twice. Bad input fails for good (UnrecoverableError); a broken model or backend does not.
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { UnrecoverableError } from 'bullmq';
import { isAbortError, StudioError } from '#shared/rpc/errors';
import { isAtomicTempName, writeFileAtomic, writeFileAtomicWith } from '../fs-atomic';
import { decodeFailureReason } from '../engine/data/image';
import { failureReason } from '../engine/infer/batch';
import { DEFAULT_DAMAGE_MODEL, loadDamageDetector, loadRestoreModel, type ModelLookup, type RestoreModel } from '../engine/infer/model';
import type { RepairStage } from '../engine/infer/repair';
import { loadDamageFiller, type DamageFiller } from '../engine/infer/learned-fill';
import { DEFAULT_QUALITY, disposePhoto, outputFormatFor, readPhoto, type FormatChoice } from '../engine/infer/photo';
import { restorePhoto } from '../engine/infer/restore-image';
import { fileHash, jobSettings, MARKER_DIR, restoreJobSchema, type RestoreJob } from './jobs';

export interface JobResult {
  output: string;
  /** True when the output was already there from an earlier attempt with the same settings. */
  alreadyDone: boolean;
  megapixels: number;
  seconds: number;
}

interface Marker {
  state: 'writing' | 'done';
  settings: string;
  outputSize?: number;
  /** sha256 of the output's bytes: a 'writing' marker names what the rename was about to put in place. */
  outputHash?: string;
}

const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

/**
 * True when `output` is the file the marker's job finished: 'done' with its size, or 'writing' with the very
 * bytes it was about to rename in (the worker died after the rename, before it could mark the job done).
 */
async function finishedBefore(marker: Marker | null, settings: string, output: string, size: number | undefined): Promise<boolean> {
  if (!marker || marker.settings !== settings || size === undefined || size !== marker.outputSize) return false;
  if (marker.state === 'done') return true;
  return marker.outputHash !== undefined && (await fileHash(output)) === marker.outputHash;
}

/** Models by --model value, loaded once per worker. */
export class ModelCache {
  private readonly loaded = new Map<string, Promise<RestoreModel>>();
  constructor(private readonly lookup: ModelLookup = {}) {}

  get(spec: string): Promise<RestoreModel> {
    return this.load(`restore:${spec}`, () => loadRestoreModel(spec, this.lookup));
  }

  /** A damage detector for the repair stage (a model of task 'detect'). */
  detector(spec: string): Promise<RestoreModel> {
    return this.load(`detect:${spec}`, () => loadDamageDetector(spec, this.lookup));
  }

  /** A damage filler for the repair stage (a model of task 'fill'). */
  filler(spec: string): Promise<DamageFiller> {
    return this.load(`fill:${spec}`, () => loadDamageFiller(spec, this.lookup));
  }

  private load<M extends RestoreModel>(key: string, make: () => Promise<M>): Promise<M> {
    // Each key is only ever made by one `make`, so what is cached under it has that make's type.
    const cached = this.loaded.get(key) as Promise<M> | undefined;
    if (cached) return cached;
    const model = make();
    model.catch(() => this.loaded.delete(key));
    this.loaded.set(key, model);
    return model;
  }

  async dispose(): Promise<void> {
    for (const model of this.loaded.values()) (await model.catch(() => null))?.dispose();
    this.loaded.clear();
  }
}

function markerPath(job: RestoreJob, id: string): string {
  return join(job.out, MARKER_DIR, `${id}.json`);
}

async function readMarker(path: string): Promise<Marker | null> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as Marker;
  } catch {
    return null;
  }
}

/** Temporaries of this output (files, or a large photo's scratch folder) left by a worker killed mid-job (the job is ours now, so they are stale). */
async function removeStaleTemps(output: string): Promise<void> {
  const prefix = `.${basename(output)}.`;
  const entries = await readdir(dirname(output)).catch(() => []);
  for (const name of entries) {
    if (name.startsWith(prefix) && isAtomicTempName(name)) await rm(join(dirname(output), name), { recursive: true, force: true }).catch(() => {});
  }
}

/** Parses a job's data; a job that is not ours (or from another version) fails for good. */
export function parseJob(data: unknown): RestoreJob {
  const parsed = restoreJobSchema.safeParse(data);
  if (!parsed.success) throw new UnrecoverableError(`the job is not a restore job this worker understands (${parsed.error.issues[0]?.message ?? 'invalid'})`);
  return parsed.data;
}

/** Restores one job's photo into its output folder. Throws UnrecoverableError with a sentence for bad input. */
export async function processRestoreJob(
  id: string,
  data: unknown,
  models: ModelCache,
  onProgress: (fraction: number) => void = () => {},
): Promise<JobResult> {
  const started = Date.now();
  const job = parseJob(data);
  const model = await models.get(job.model);
  if (model.fingerprint !== job.fingerprint) {
    throw new UnrecoverableError(
      `the model "${job.model}" on this worker (fingerprint ${model.fingerprint}) is not the one the job was queued with (${job.fingerprint}); install the same model package on every worker`,
    );
  }
  let repair: RepairStage | undefined;
  if (job.repair) {
    const detector = await models.detector(job.repairModel ?? DEFAULT_DAMAGE_MODEL);
    if (detector.fingerprint !== job.repairFingerprint) {
      throw new UnrecoverableError(
        `the damage detector "${job.repairModel}" on this worker (fingerprint ${detector.fingerprint}) is not the one the job was queued with (${job.repairFingerprint}); install the same detector on every worker`,
      );
    }
    let filler: DamageFiller | null = null;
    if (job.fillModel) {
      filler = await models.filler(job.fillModel);
      if (filler.fingerprint !== job.fillFingerprint) {
        throw new UnrecoverableError(
          `the damage filler "${job.fillModel}" on this worker (fingerprint ${filler.fingerprint}) is not the one the job was queued with (${job.fillFingerprint}); install the same filler on every worker`,
        );
      }
    }
    repair = { detector, filler, strength: job.repair };
  }
  const input = join(job.root, job.file);
  const output = join(job.out, job.output);
  const marker = markerPath(job, id);
  const settings = jobSettings(job);
  const previous = await readMarker(marker);
  const existing = await stat(output).catch(() => null);
  if (await finishedBefore(previous, settings, output, existing?.isFile() ? existing.size : undefined)) {
    if (previous!.state === 'writing') await writeFileAtomic(marker, JSON.stringify({ ...previous!, state: 'done' } satisfies Marker));
    return { output, alreadyDone: true, megapixels: 0, seconds: 0 };
  }
  // Never replace a file no worker wrote for this job (an --out folder holding other photos).
  if (existing && !previous) {
    throw new UnrecoverableError(`${job.output} already exists in the output folder and was not written by a restore; it is left alone (choose an empty output folder)`);
  }
  await removeStaleTemps(output);

  const size = (await stat(input).catch(() => null))?.size ?? 0;
  let photo;
  try {
    photo = await readPhoto(input, { scratchFor: output });
  } catch (error) {
    throw new UnrecoverableError(failureReason(error, size));
  }
  // A large photo lives in a scratch folder in the output folder until it is written.
  try {
    const format = outputFormatFor(job.file, job.format as FormatChoice);
    let result;
    try {
      result = await restorePhoto(model, photo, format, { onProgress, ...(job.tone ? { tone: { strength: job.tone } } : {}), ...(repair ? { repair } : {}) });
    } catch (error) {
      if (isAbortError(error)) throw error;
      if (error instanceof StudioError && (error.code === 'MODEL_INVALID' || error.code === 'BACKEND_UNAVAILABLE')) throw error;
      throw new UnrecoverableError(failureReason(error, size));
    }
    const quality = job.quality ?? DEFAULT_QUALITY;
    const cannotEncode = (error: unknown): UnrecoverableError =>
      new UnrecoverableError(`cannot be written as ${format.toUpperCase()}: ${decodeFailureReason(error)}`);
    // The 'writing' marker names the bytes about to take the output's name, before the rename.
    const markWriting = async (outputSize: number, outputHash: string): Promise<Marker> => {
      const written: Marker = { state: 'writing', settings, outputSize, outputHash };
      await mkdir(dirname(marker), { recursive: true });
      await writeFileAtomic(marker, JSON.stringify(written));
      return written;
    };
    let written: Marker;
    await mkdir(dirname(output), { recursive: true });
    if (photo.disk) {
      // A large photo is encoded straight into the output's temporary name (never held whole).
      let encoded = false;
      try {
        await writeFileAtomicWith(
          output,
          async (tmp) => {
            await result.restored.encodeToFile(tmp, quality);
            encoded = true;
          },
          { check: async (tmp) => void (written = await markWriting((await stat(tmp)).size, await fileHash(tmp))) },
        );
      } catch (error) {
        if (!encoded) throw cannotEncode(error);
        throw error;
      }
    } else {
      let bytes: Buffer;
      try {
        bytes = await result.restored.encode(quality);
      } catch (error) {
        throw cannotEncode(error);
      }
      written = await markWriting(bytes.length, sha256(bytes));
      await writeFileAtomic(output, bytes);
    }
    await writeFileAtomic(marker, JSON.stringify({ ...written!, state: 'done' } satisfies Marker));
    return { output, alreadyDone: false, megapixels: (photo.width * photo.height) / 1e6, seconds: (Date.now() - started) / 1000 };
  } finally {
    await disposePhoto(photo);
  }
}
