// Batch restoration: every photo of a folder (or one file) through a restoration model into a new folder.
// - Inputs are only ever read. Outputs go to a separate folder (default: `<input>-restored` next to the
//   input), mirroring subfolders with `recursive`; the output folder is never scanned as input; each output
//   is written under a temporary name in its folder and renamed, so no half-written file has a final name.
// - Any size: images are restored tile by tile (restore-image.ts); an out-of-memory error restarts that image
//   with smaller tiles.
// - Resumable: a journal in the output folder records every finished or failed file; a rerun skips files
//   whose input is unchanged (size + mtime) and whose output is still there, made with the same settings.
//   `retryFailed` reruns only the files that failed.
// - One bad file (corrupt, not an image) is recorded with its reason and the batch goes on.
// - Pause (PauseGate), cancel (AbortSignal) and progress (n of N, file, megapixels/s, ETA); before the first
//   file, an estimate from the model timed on one small tile (estimate.ts), which counts an upscaler's cost.
import { constants } from 'node:fs';
import { access, mkdir, open, readdir, readFile, realpath, stat, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { basename, dirname, extname, join, relative, resolve, sep } from 'node:path';
import sharp from 'sharp';
import { isAbortError, StudioError, throwIfAborted } from '#shared/rpc/errors';
import { isAtomicTempName, writeFileAtomic } from '../../fs-atomic';
import { decodeFailureReason, isImageFileName } from '../data/image';
import { Journal, JOURNAL_NAME, JOURNAL_VERSION, type JournalRecord } from './journal';
import { estimateBatchSeconds, timeModel } from './estimate';
import { isOutOfMemory, planTiles } from './memory';
import type { RestoreModel } from './model';
import { PauseGate } from './pause';
import { DEFAULT_QUALITY, outputFormatFor, outputNameFor, readPhoto, type FormatChoice } from './photo';
import { restorePhoto } from './restore-image';

export const LOCK_NAME = '.studio-restore.lock';

export interface RestoreBatchOptions {
  /** An image file or a folder of images. */
  input: string;
  /** Output folder; default `<input folder>-restored` beside the input folder (for a file: beside its folder). */
  out?: string;
  model: RestoreModel;
  /** Include subfolders (mirrored in the output). */
  recursive?: boolean;
  /** Output format; default 'keep'. */
  format?: FormatChoice;
  /** JPEG/WebP/AVIF quality 1-100; default 92. */
  quality?: number;
  /** Tile edge in pixels; default chosen from available memory. */
  tile?: number;
  /** Process only the files whose last journal record is a failure. */
  retryFailed?: boolean;
  /** Automatic tone and colour after the model, at this strength (0-1); off when absent. */
  tone?: number;
}

export interface RestoreBatchControl {
  signal?: AbortSignal;
  pause?: PauseGate;
  onStart?: (info: BatchStart) => void;
  onProgress?: (progress: RestoreProgress) => void;
  /** After every file: restored, skipped (reported before the first restore) or failed. */
  onFile?: (outcome: FileOutcome) => void;
}

export interface BatchStart {
  out: string;
  /** Images found. */
  found: number;
  /** Images to process in this run. */
  toDo: number;
  skipped: number;
  megapixelsTotal: number;
  tile: number;
  model: string;
  /** Output pixels per input pixel along each axis (1, or an upscaler's 2, 4 ...). */
  scale: number;
  /** Seconds the batch should take, from the model timed on this machine; null when it could not be timed. */
  estimatedSeconds: number | null;
}

export interface RestoreProgress {
  phase: 'restoring' | 'paused';
  /** 1-based position of the current file among the files to process. */
  index: number;
  total: number;
  /** Current file, relative to the input folder. */
  file: string;
  /** Fraction of the current file done. */
  fileFraction: number;
  done: number;
  skipped: number;
  failed: number;
  megapixelsDone: number;
  megapixelsTotal: number;
  megapixelsPerSecond: number;
  etaSeconds: number | null;
  tile: number;
}

export type FileOutcome =
  | {
      status: 'done';
      file: string;
      output: string;
      megapixels: number;
      seconds: number;
      tile: number;
      /** Out-of-memory restarts with smaller tiles. */
      retries: number;
      /** What was kept or changed, for the log (16-bit, alpha, ICC, orientation, pages ...). */
      notes: string[];
    }
  | { status: 'skipped'; file: string; output: string | null; reason: string }
  | { status: 'failed'; file: string; reason: string };

export interface FailedFile {
  file: string;
  reason: string;
}

export interface RestoreSummary {
  done: number;
  skipped: number;
  failed: FailedFile[];
  out: string;
  megapixelsPerSecond: number;
  /** True when the batch stopped early (signal); rerunning resumes it. */
  cancelled: boolean;
  seconds: number;
  model: string;
  files: FileOutcome[];
}

export interface PlannedFile {
  input: string;
  file: string;
  outputRel: string;
  output: string;
  format: ReturnType<typeof outputFormatFor>;
}

function isImage(name: string): boolean {
  return isImageFileName(name);
}

function isInside(child: string, parent: string): boolean {
  return child === parent || child.startsWith(parent.endsWith(sep) ? parent : parent + sep);
}

async function realOrResolved(path: string): Promise<string> {
  return realpath(path).catch(() => resolve(path));
}

/** Images under `root` (sorted, absolute), skipping hidden entries and the excluded folders. */
export async function listImages(root: string, recursive: boolean, exclude: string[] = []): Promise<string[]> {
  const found: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      if (entry.name.startsWith('.')) continue;
      const path = join(dir, entry.name);
      let isDir = entry.isDirectory();
      let isFile = entry.isFile();
      if (entry.isSymbolicLink()) {
        // Symlinked files are followed; symlinked folders are not (no loops, no surprises).
        const target = await stat(path).catch(() => null);
        isFile = Boolean(target?.isFile());
        isDir = false;
      }
      if (isDir) {
        if (!recursive) continue;
        const real = await realOrResolved(path);
        if (exclude.some((e) => isInside(real, e))) continue;
        await walk(path);
      } else if (isFile && isImage(entry.name)) {
        found.push(path);
      }
    }
  };
  await walk(root);
  return found;
}

/** Where outputs go by default: `<folder>-restored` beside the input folder (or beside a file's folder). */
export function defaultOutputDir(inputRoot: string): string {
  const name = basename(inputRoot);
  if (!name) throw new StudioError('BAD_INPUT', `Cannot put outputs beside ${inputRoot}; choose an output folder with --out.`);
  return join(dirname(inputRoot), `${name}-restored`);
}

/**
 * The real reason a write under `dir` failed. Creating a folder on a read-only disk reports ENOENT (Node's
 * recursive mkdir gives up on the missing parent); asking the nearest existing folder whether it can be written
 * to names the cause (EROFS, EACCES).
 */
async function writeFailure(dir: string, error: unknown): Promise<unknown> {
  if ((error as NodeJS.ErrnoException).code !== 'ENOENT') return error;
  for (let folder = dir; ; folder = dirname(folder)) {
    if (await stat(folder).then(() => true, () => false)) {
      return access(folder, constants.W_OK).then(() => error, (denied: unknown) => denied);
    }
    if (dirname(folder) === folder) return error;
  }
}

function unwritable(out: string, error: unknown): StudioError {
  const code = (error as NodeJS.ErrnoException).code;
  const why =
    code === 'EACCES' || code === 'EPERM'
      ? 'permission denied'
      : code === 'ENOTDIR' || code === 'EEXIST'
        ? 'a file is in the way (part of the path is not a folder)'
        : code === 'EROFS'
          ? 'the disk is read-only'
          : code === 'ENOSPC' || code === 'EDQUOT'
            ? 'the disk is full'
            : (error as Error).message;
  return new StudioError('OUTPUT_UNWRITABLE', `Cannot write to the output folder ${out}: ${why}.`, { code });
}

const WRITE_ERRORS = new Set(['EACCES', 'EPERM', 'EROFS', 'ENOSPC', 'EDQUOT', 'ENOTDIR', 'EEXIST', 'EISDIR']);

async function ensureFolder(out: string): Promise<void> {
  try {
    await mkdir(out, { recursive: true });
    if (!(await stat(out)).isDirectory()) throw Object.assign(new Error('not a folder'), { code: 'ENOTDIR' });
  } catch (error) {
    throw unwritable(out, await writeFailure(out, error));
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** One batch at a time per output folder. A lock left by a dead process is taken over. */
async function acquireLock(out: string): Promise<() => Promise<void>> {
  const path = join(out, LOCK_NAME);
  const content = JSON.stringify({ pid: process.pid, host: hostname(), at: new Date().toISOString() });
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const handle = await open(path, 'wx');
      await handle.writeFile(content);
      await handle.close();
      return async () => {
        await unlink(path).catch(() => {});
      };
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'EEXIST') throw unwritable(out, error);
      let owner: { pid?: number; host?: string } = {};
      try {
        owner = JSON.parse(await readFile(path, 'utf8')) as typeof owner;
      } catch {
        // unreadable or half-written lock: treat as stale
      }
      const sameHost = !owner.host || owner.host === hostname();
      if (typeof owner.pid === 'number' && sameHost && owner.pid !== process.pid && alive(owner.pid)) {
        throw new StudioError(
          'OUTPUT_UNWRITABLE',
          `Another restore (process ${owner.pid}) is writing to ${out}. Wait for it to finish or choose another output folder.`,
        );
      }
      if (owner.pid === process.pid) {
        throw new StudioError('OUTPUT_UNWRITABLE', `A restore in this process is already writing to ${out}.`);
      }
      await unlink(path).catch(() => {});
    }
  }
  throw new StudioError('OUTPUT_UNWRITABLE', `Cannot lock the output folder ${out}.`);
}

/**
 * Removes temporary files a killed batch left behind (writeFileAtomic's temporary siblings) in the output
 * folder, never descending into the input folder (when the output folder contains it).
 */
async function removeStaleTemps(dir: string, inputRoot: string, outRoot: string): Promise<void> {
  if (!isInside(outRoot, inputRoot) && isInside(await realOrResolved(dir), inputRoot)) return;
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) await removeStaleTemps(path, inputRoot, outRoot);
    else if (entry.isFile() && isAtomicTempName(entry.name)) await unlink(path).catch(() => {});
  }
}

/** Output paths for the inputs; names that would collide (a.jpg and a.png both to a.png) get the input's extension. */
export function planOutputs(root: string, out: string, inputs: string[], format: FormatChoice): PlannedFile[] {
  const taken = new Set<string>();
  const planned: PlannedFile[] = [];
  for (const input of inputs) {
    const file = relative(root, input);
    const outFormat = outputFormatFor(file, format);
    let outputRel = join(dirname(file), outputNameFor(basename(file), outFormat));
    if (taken.has(outputRel.toLowerCase())) {
      const ext = extname(file);
      const stem = basename(file, ext);
      const suffix = extname(outputRel);
      let candidate = join(dirname(file), `${stem}-${ext.slice(1).toLowerCase()}${suffix}`);
      for (let n = 2; taken.has(candidate.toLowerCase()); n++) candidate = join(dirname(file), `${stem}-${ext.slice(1).toLowerCase()}-${n}${suffix}`);
      outputRel = candidate;
    }
    taken.add(outputRel.toLowerCase());
    planned.push({ input, file, outputRel, output: join(out, outputRel), format: outFormat });
  }
  return planned;
}

export function failureReason(error: unknown, size: number): string {
  if (size === 0) return 'empty file (0 bytes)';
  if (isOutOfMemory(error)) return error instanceof Error ? error.message : 'ran out of memory';
  return decodeFailureReason(error);
}

async function sizeOf(path: string): Promise<{ width: number; height: number }> {
  try {
    const meta = await sharp(path).metadata();
    return { width: meta.width ?? 0, height: meta.height ?? 0 };
  } catch {
    return { width: 0, height: 0 };
  }
}

function notesOf(
  photo: Awaited<ReturnType<typeof readPhoto>>,
  written: { sixteenBit: boolean; keepAlpha: boolean; format: string; width: number; height: number; scale: number },
): string[] {
  const notes: string[] = [];
  if (written.scale > 1) notes.push(`${written.scale}× upscale to ${written.width}x${written.height}`);
  if (photo.orientation > 1) notes.push(`EXIF orientation ${photo.orientation} applied`);
  if (photo.sixteenBit) notes.push(written.sixteenBit ? '16-bit kept' : `16-bit written as 8-bit (${written.format})`);
  if (photo.grayscale) notes.push('grayscale kept');
  if (photo.alpha) notes.push(written.keepAlpha ? 'alpha kept' : `alpha flattened on white (${written.format} has no alpha)`);
  if (photo.hasIcc) notes.push('ICC profile kept');
  if (photo.cmyk) notes.push('CMYK converted to sRGB');
  if (photo.pages > 1) notes.push(`only the first of ${photo.pages} pages/frames restored`);
  return notes;
}

/** Restores a file or folder of photos. Resolves with the summary (also when cancelled: `cancelled` is set). */
export async function restoreBatch(options: RestoreBatchOptions, control: RestoreBatchControl = {}): Promise<RestoreSummary> {
  const started = Date.now();
  const { model } = options;
  const { signal } = control;
  if (!model) throw new StudioError('BAD_INPUT', 'No model given.');
  const formatChoice = options.format ?? 'keep';
  const quality = options.quality ?? DEFAULT_QUALITY;
  if (!Number.isInteger(quality) || quality < 1 || quality > 100) throw new StudioError('BAD_INPUT', `Quality must be a whole number from 1 to 100 (got ${quality}).`);
  if (options.tile !== undefined && (!Number.isInteger(options.tile) || options.tile < 16)) {
    throw new StudioError('BAD_INPUT', `The tile size must be a whole number of pixels, at least 16 (got ${options.tile}).`);
  }

  // What to read.
  const inputPath = resolve(options.input);
  const inputStat = await stat(inputPath).catch(() => null);
  if (!inputStat) throw new StudioError('NOT_FOUND', `There is no file or folder at ${inputPath}.`);
  const singleFile = !inputStat.isDirectory();
  const root = singleFile ? dirname(inputPath) : inputPath;
  if (singleFile && !isImage(inputPath)) {
    throw new StudioError('BAD_INPUT', `${inputPath} does not have an image extension (.jpg, .png, .tif, .webp ...).`);
  }
  const out = resolve(options.out ?? defaultOutputDir(root));
  const realRoot = await realOrResolved(root);
  const realOut = await realOrResolved(out);
  if (realOut === realRoot) {
    throw new StudioError('BAD_INPUT', `The output folder cannot be the input folder (${root}): originals are never overwritten. Choose another --out.`);
  }
  // The output folder is skipped when it sits inside the input folder (not when it contains it).
  const outInsideInput = isInside(realOut, realRoot);
  const inputs = singleFile ? [inputPath] : await listImages(root, options.recursive ?? false, outInsideInput ? [realOut] : []);
  if (inputs.length === 0) {
    throw new StudioError(
      'NOT_FOUND',
      `No images found in ${root}${options.recursive ? ' or its subfolders' : ''} (looked for .jpg, .jpeg, .png, .tif, .tiff, .webp, .avif, .gif, .heic, .bmp).` +
        (options.recursive ? '' : ' Add --recursive to include subfolders.'),
      { reason: 'NO_IMAGES' },
    );
  }

  // Where to write.
  await ensureFolder(out);
  const releaseLock = await acquireLock(out);
  let journal: Journal | null = null;
  try {
    await removeStaleTemps(out, realRoot, await realOrResolved(out));
    try {
      journal = await Journal.open(out);
    } catch (error) {
      throw unwritable(out, error);
    }
    // Outputs made with other settings are redone; the tone stage is part of the settings only when on, so
    // journals written before it existed stay valid.
    const settings = `${model.fingerprint}|${formatChoice}|${quality}${options.tone ? `|tone ${options.tone}` : ''}`;
    const planned = planOutputs(root, out, inputs, formatChoice);
    const inputSet = new Set(inputs.map((p) => resolve(p)));
    const files: FileOutcome[] = [];
    const failed: FailedFile[] = [];
    const toDo: { plan: PlannedFile; megapixels: number }[] = [];
    let skipped = 0;
    for (const plan of planned) {
      const st = await stat(plan.input).catch(() => null);
      const last = journal.last(plan.input);
      const finished = st && last?.event === 'done' && last.size === st.size && last.mtimeMs === st.mtimeMs && last.settings === settings;
      let outputOk = false;
      if (finished) {
        const o = await stat(join(out, last.output)).catch(() => null);
        outputOk = Boolean(o?.isFile() && o.size === last.outputSize);
      }
      if (finished && outputOk) {
        skipped++;
        files.push({ status: 'skipped', file: plan.file, output: last.output, reason: 'already restored' });
      } else if (options.retryFailed && last?.event !== 'failed') {
        skipped++;
        files.push({ status: 'skipped', file: plan.file, output: null, reason: 'did not fail before (--retry-failed)' });
      } else {
        toDo.push({ plan, megapixels: 0 });
      }
    }
    const sizes = [];
    for (const item of toDo) {
      const size = await sizeOf(item.plan.input);
      sizes.push(size);
      item.megapixels = (size.width * size.height) / 1e6;
    }
    let megapixelsTotal = toDo.reduce((a, t) => a + t.megapixels, 0);
    const defaultPlan = planTiles(model, options.tile);
    const defaultTile = defaultPlan.tile;
    // A model that cannot even run one small tile (out of memory) gets no estimate; its files say why.
    const secondsPerPixel = toDo.length > 0 ? await timeModel(model).catch(() => null) : null;
    const estimatedSeconds = secondsPerPixel === null ? null : estimateBatchSeconds(sizes, defaultPlan, model, secondsPerPixel);
    control.onStart?.({
      out,
      found: inputs.length,
      toDo: toDo.length,
      skipped,
      megapixelsTotal,
      tile: defaultTile,
      model: model.id,
      scale: model.scale ?? 1,
      estimatedSeconds,
    });
    for (const f of files) control.onFile?.(f);

    // Time spent paused does not count towards speed or ETA.
    let pausedMs = 0;
    let pausedSince: number | null = control.pause?.isPaused ? Date.now() : null;
    const unsubscribe = control.pause?.onChange((paused) => {
      if (paused) pausedSince = Date.now();
      else if (pausedSince !== null) {
        pausedMs += Date.now() - pausedSince;
        pausedSince = null;
      }
    });
    const busySeconds = (): number => Math.max(1e-3, (Date.now() - started - pausedMs - (pausedSince === null ? 0 : Date.now() - pausedSince)) / 1000);

    let done = 0;
    let megapixelsDone = 0;
    let megapixelsRestored = 0;
    let restoreSeconds = 0;
    let cancelled = false;
    const progress = (index: number, item: { plan: PlannedFile; megapixels: number }, fraction: number, tile: number, phase: RestoreProgress['phase'] = 'restoring'): void => {
      if (!control.onProgress) return;
      const mpDone = megapixelsDone + fraction * item.megapixels;
      const rate = mpDone / busySeconds();
      // Until some pixels are done there is no rate to go by: the estimate made before the batch stands in.
      const fallback = estimatedSeconds === null ? null : Math.max(0, estimatedSeconds - busySeconds());
      control.onProgress({
        phase,
        index,
        total: toDo.length,
        file: item.plan.file,
        fileFraction: fraction,
        done,
        skipped,
        failed: failed.length,
        megapixelsDone: mpDone,
        megapixelsTotal,
        megapixelsPerSecond: rate,
        etaSeconds: rate > 0 ? Math.max(0, megapixelsTotal - mpDone) / rate : fallback,
        tile,
      });
    };
    const record = async (r: JournalRecord): Promise<void> => {
      try {
        await journal!.append(r);
      } catch (error) {
        throw unwritable(out, error);
      }
    };

    try {
      for (let i = 0; i < toDo.length; i++) {
        const item = toDo[i]!;
        const { plan } = item;
        if (signal?.aborted) {
          cancelled = true;
          break;
        }
        const fileStart = Date.now();
        let tile = defaultTile;
        let lastFraction = 0;
        progress(i + 1, item, 0, tile);
        const st = await stat(plan.input).catch(() => null);
        const base = { v: JOURNAL_VERSION, input: plan.input, file: plan.file, size: st?.size ?? 0, mtimeMs: st?.mtimeMs ?? 0 };
        const fail = async (reason: string): Promise<void> => {
          failed.push({ file: plan.file, reason });
          const outcome: FileOutcome = { status: 'failed', file: plan.file, reason };
          files.push(outcome);
          await record({ ...base, event: 'failed', reason, at: new Date().toISOString() });
          control.onFile?.(outcome);
          megapixelsDone += item.megapixels;
        };
        if (inputSet.has(resolve(plan.output))) {
          await fail(`its output ${plan.outputRel} would overwrite an input file`);
          continue;
        }
        if (!outInsideInput && isInside(resolve(plan.output), realRoot)) {
          await fail(`its output ${plan.outputRel} would land inside the input folder; choose an output folder outside it`);
          continue;
        }
        try {
          let photo;
          try {
            photo = await readPhoto(plan.input);
          } catch (error) {
            await fail(failureReason(error, base.size));
            continue;
          }
          // Header sizes can differ from decoded ones (an unreadable header counted 0): keep totals honest.
          const megapixels = (photo.width * photo.height) / 1e6;
          megapixelsTotal += megapixels - item.megapixels;
          item.megapixels = megapixels;
          let retries = 0;
          let result;
          try {
            result = await restorePhoto(model, photo, plan.format, {
              tile: options.tile,
              ...(options.tone ? { tone: { strength: options.tone } } : {}),
              signal,
              beforeTile: async () => {
                if (control.pause?.isPaused) {
                  progress(i + 1, item, lastFraction, tile, 'paused');
                  await control.pause.wait(signal);
                }
                throwIfAborted(signal);
              },
              onProgress: (f) => {
                lastFraction = f;
                progress(i + 1, item, f, tile);
              },
              onRetry: ({ to }) => {
                tile = to;
                retries++;
              },
            });
          } catch (error) {
            if (isAbortError(error) || signal?.aborted) throw error;
            if (error instanceof StudioError && (error.code === 'MODEL_INVALID' || error.code === 'BACKEND_UNAVAILABLE')) throw error;
            await fail(failureReason(error, base.size));
            continue;
          }
          throwIfAborted(signal);
          let bytes: Buffer;
          try {
            bytes = await result.restored.encode(quality);
          } catch (error) {
            await fail(`cannot be written as ${plan.format.toUpperCase()}: ${decodeFailureReason(error)}`);
            continue;
          }
          // Never replace a file this tool did not write (an --out folder holding other photos).
          if (!journal.wrote(plan.outputRel) && (await stat(plan.output).catch(() => null))) {
            await fail(`${plan.outputRel} already exists in the output folder and was not written by a restore; it is left alone (choose an empty output folder)`);
            continue;
          }
          await record({ ...base, event: 'writing', output: plan.outputRel, at: new Date().toISOString() });
          try {
            await mkdir(dirname(plan.output), { recursive: true });
            await writeFileAtomic(plan.output, bytes);
          } catch (error) {
            const cause = await writeFailure(dirname(plan.output), error);
            if (WRITE_ERRORS.has((cause as NodeJS.ErrnoException).code ?? '')) throw unwritable(dirname(plan.output), cause);
            throw error;
          }
          const seconds = (Date.now() - fileStart) / 1000;
          await record({
            ...base,
            event: 'done',
            output: plan.outputRel,
            outputSize: bytes.length,
            settings,
            megapixels,
            seconds,
            tile: result.tile,
            at: new Date().toISOString(),
          });
          done++;
          megapixelsDone += item.megapixels;
          megapixelsRestored += megapixels;
          restoreSeconds += seconds;
          const outcome: FileOutcome = {
            status: 'done',
            file: plan.file,
            output: plan.outputRel,
            megapixels,
            seconds,
            tile: result.tile,
            retries,
            notes: notesOf(photo, {
              sixteenBit: result.restored.sixteenBit,
              keepAlpha: result.restored.keepAlpha,
              format: plan.format,
              width: result.restored.width,
              height: result.restored.height,
              scale: result.restored.scale,
            }),
          };
          files.push(outcome);
          control.onFile?.(outcome);
          progress(i + 1, item, 1, result.tile);
        } catch (error) {
          if (isAbortError(error) || signal?.aborted) {
            cancelled = true;
            break;
          }
          throw error;
        }
      }
    } finally {
      unsubscribe?.();
    }
    return {
      done,
      skipped,
      failed,
      out,
      megapixelsPerSecond: restoreSeconds > 0 ? megapixelsRestored / restoreSeconds : 0,
      cancelled,
      seconds: (Date.now() - started) / 1000,
      model: model.id,
      files,
    };
  } finally {
    await journal?.close().catch(() => {});
    await releaseLock();
  }
}

export { JOURNAL_NAME, PauseGate };
