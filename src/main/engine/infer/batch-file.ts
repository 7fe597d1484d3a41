// One file of a batch restore: decode, restore, encode, write atomically, journal. A file that cannot be done
// (corrupt, unwritable format, a name in the way) is recorded as failed and the batch goes on; cancellation,
// an invalid model and an unwritable output folder stop the batch (thrown).
import { constants } from 'node:fs';
import { access, mkdir, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { isAbortError, StudioError, throwIfAborted } from '#shared/rpc/errors';
import { writeFileAtomic, writeFileAtomicWith } from '../../fs-atomic';
import { decodeFailureReason } from '../data/image';
import { isInside, type WorkItem } from './batch-plan';
import { unwritable, WRITE_ERRORS, writeFailure } from './batch-lock';
import type { BatchTally } from './batch-progress';
import type { FileOutcome, RestoreBatchControl } from './batch';
import { JOURNAL_VERSION, type Journal, type JournalRecord } from './journal';
import { isOutOfMemory } from './memory';
import type { RestoreModel } from './model';
import { disposePhoto, readPhoto, type Photo } from './photo';
import { restorePhoto, type RepairOutcome } from './restore-image';
import type { RepairStage } from './repair';
import { writeMask } from './mask-file';

/** What every file of one batch shares. */
export interface BatchContext {
  model: RestoreModel;
  control: RestoreBatchControl;
  journal: Journal;
  out: string;
  realRoot: string;
  outInsideInput: boolean;
  /** Resolved input paths: an output may never land on one. */
  inputSet: Set<string>;
  /** Written into every done record; a rerun with other settings redoes the file. */
  settings: string;
  quality: number;
  tile?: number;
  tone?: number;
  repair?: RepairStage;
  /** The batch's tile before any out-of-memory retry. */
  defaultTile: number;
  tally: BatchTally;
}

export function failureReason(error: unknown, size: number): string {
  if (size === 0) return 'empty file (0 bytes)';
  if (isOutOfMemory(error)) return error instanceof Error ? error.message : 'ran out of memory';
  return decodeFailureReason(error);
}

export function notesOf(
  photo: Photo,
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

function repairNote(repair: RepairOutcome): string {
  if (repair.status === 'skipped') return repair.reason;
  return repair.filledShare > 0 ? `damage filled on ${(repair.filledShare * 100).toFixed(2)}% of the pixels` : 'no damage found';
}

/** The repaired photo's mask, for Compare; a mask that cannot be written costs the overlay, not the photo. */
async function keepMask(ctx: BatchContext, outputRel: string, repair: RepairOutcome | undefined, photo: Photo): Promise<string | undefined> {
  if (repair?.status !== 'repaired') return undefined;
  return writeMask(ctx.out, outputRel, repair.replaced, photo.width, photo.height).catch(() => undefined);
}

async function record(ctx: BatchContext, r: JournalRecord): Promise<void> {
  try {
    await ctx.journal.append(r);
  } catch (error) {
    throw unwritable(ctx.out, error);
  }
}

/**
 * Restores the `index`-th (1-based) file of the work. Resolves 'cancelled' when the batch was cancelled
 * during it, else 'next' (restored or failed: the tally and journal say which).
 */
export async function restoreBatchFile(ctx: BatchContext, index: number, item: WorkItem): Promise<'next' | 'cancelled'> {
  const { plan } = item;
  const { model, control, tally } = ctx;
  const { signal } = control;
  const fileStart = Date.now();
  let tile = ctx.defaultTile;
  let lastFraction = 0;
  tally.report(index, item, 0, tile);
  const st = await stat(plan.input).catch(() => null);
  const base = { v: JOURNAL_VERSION, input: plan.input, file: plan.file, size: st?.size ?? 0, mtimeMs: st?.mtimeMs ?? 0 };
  const fail = async (reason: string): Promise<'next'> => {
    tally.failed.push({ file: plan.file, reason });
    const outcome: FileOutcome = { status: 'failed', file: plan.file, reason };
    tally.files.push(outcome);
    await record(ctx, { ...base, event: 'failed', reason, at: new Date().toISOString() });
    control.onFile?.(outcome);
    tally.megapixelsDone += item.megapixels;
    return 'next';
  };
  if (ctx.inputSet.has(resolve(plan.output))) return fail(`its output ${plan.outputRel} would overwrite an input file`);
  if (!ctx.outInsideInput && isInside(resolve(plan.output), ctx.realRoot)) {
    return fail(`its output ${plan.outputRel} would land inside the input folder; choose an output folder outside it`);
  }
  let photo: Photo | undefined;
  try {
    try {
      // A large photo is decoded to a scratch folder beside its output (that disk, not a RAM-backed /tmp).
      photo = await readPhoto(plan.input, { scratchFor: plan.output });
    } catch (error) {
      return await fail(failureReason(error, base.size));
    }
    // Header sizes can differ from decoded ones (an unreadable header counted 0): keep totals honest.
    const megapixels = (photo.width * photo.height) / 1e6;
    tally.megapixelsTotal += megapixels - item.megapixels;
    item.megapixels = megapixels;
    let retries = 0;
    let result;
    try {
      result = await restorePhoto(model, photo, plan.format, {
        tile: ctx.tile,
        ...(ctx.tone ? { tone: { strength: ctx.tone } } : {}),
        ...(ctx.repair ? { repair: ctx.repair } : {}),
        signal,
        beforeTile: async () => {
          if (control.pause?.isPaused) {
            tally.report(index, item, lastFraction, tile, 'paused');
            await control.pause.wait(signal);
          }
          throwIfAborted(signal);
        },
        onProgress: (f) => {
          lastFraction = f;
          tally.report(index, item, f, tile);
        },
        onRetry: ({ to }) => {
          tile = to;
          retries++;
        },
      });
    } catch (error) {
      if (isAbortError(error) || signal?.aborted) throw error;
      if (error instanceof StudioError && (error.code === 'MODEL_INVALID' || error.code === 'BACKEND_UNAVAILABLE')) throw error;
      return await fail(failureReason(error, base.size));
    }
    throwIfAborted(signal);
    // A large photo (kept on disk) is encoded straight into its output's temporary name, never held whole;
    // any other is encoded first, so a photo that cannot be encoded is failed before anything is written.
    const cannotEncode = (error: unknown): string => `cannot be written as ${plan.format.toUpperCase()}: ${decodeFailureReason(error)}`;
    let bytes: Buffer | null = null;
    if (!photo.disk) {
      try {
        bytes = await result.restored.encode(ctx.quality);
      } catch (error) {
        return await fail(cannotEncode(error));
      }
    }
    // Never replace a file this tool did not write (an --out folder holding other photos).
    if (!ctx.journal.wrote(plan.outputRel) && (await stat(plan.output).catch(() => null))) {
      return await fail(`${plan.outputRel} already exists in the output folder and was not written by a restore; it is left alone (choose an empty output folder)`);
    }
    await record(ctx, { ...base, event: 'writing', output: plan.outputRel, at: new Date().toISOString() });
    let outputSize: number;
    try {
      await mkdir(dirname(plan.output), { recursive: true });
      if (bytes) {
        await writeFileAtomic(plan.output, bytes);
        outputSize = bytes.length;
      } else {
        await writeFileAtomicWith(plan.output, (tmp) => result.restored.encodeToFile(tmp, ctx.quality));
        outputSize = (await stat(plan.output)).size;
      }
    } catch (error) {
      const cause = await writeFailure(dirname(plan.output), error);
      if (WRITE_ERRORS.has((cause as NodeJS.ErrnoException).code ?? '')) throw unwritable(dirname(plan.output), cause);
      // sharp says in words why it could not write a file: the folder refused it, or the encoder failed.
      if (!bytes && !(error as NodeJS.ErrnoException).code) {
        const denied = await access(dirname(plan.output), constants.W_OK).then(() => null, (refusal: unknown) => refusal);
        if (denied) throw unwritable(dirname(plan.output), denied);
        return await fail(cannotEncode(error));
      }
      throw error;
    }
    const mask = await keepMask(ctx, plan.outputRel, result.repair, photo);
    const seconds = (Date.now() - fileStart) / 1000;
    await record(ctx, {
      ...base,
      event: 'done',
      output: plan.outputRel,
      outputSize,
      settings: ctx.settings,
      megapixels,
      seconds,
      tile: result.tile,
      at: new Date().toISOString(),
    });
    tally.done++;
    tally.megapixelsDone += item.megapixels;
    tally.megapixelsRestored += megapixels;
    tally.restoreSeconds += seconds;
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
      }).concat(result.repair ? [repairNote(result.repair)] : []),
      ...(mask ? { mask } : {}),
    };
    tally.files.push(outcome);
    control.onFile?.(outcome);
    tally.report(index, item, 1, result.tile);
    return 'next';
  } catch (error) {
    if (isAbortError(error) || signal?.aborted) return 'cancelled';
    throw error;
  } finally {
    if (photo) await disposePhoto(photo);
  }
}
