// Writes a paired dataset (out/clean/*.png, out/degraded/*.png) from a folder of clean images: what
// `studio synth` does. Never writes into the input; each file is written under a temporary name and
// renamed; a bad input file is skipped and reported, the rest carry on.
import { mkdir, realpath } from 'node:fs/promises';
import { basename, dirname, extname, isAbsolute, join, relative, resolve } from 'node:path';
import sharp from 'sharp';
import { StudioError, throwIfAborted } from '#shared/rpc/errors';
import { mapLimit } from '../check';
import { scanDataset } from '../dataset';
import { writeFileAtomic } from '../../../fs-atomic';
import { type RawRgbImage, decodeFailureReason, decodeImageFile, encodePng, rawToFloat } from '../image';
import { deriveSeed } from '../rng';
import type { SynthReport } from '#shared/dataset';
import { type AppliedStep, type DegradationRecipe, recipeMayExceedRange, synthesize } from './recipe';

export interface SynthFolderOptions {
  recipe: DegradationRecipe;
  /** Shown in the report (e.g. "gaussian:25"). */
  preset: string;
  seed?: number;
  /** Files processed at once (default 2). */
  concurrency?: number;
  /** Process at most this many images (first in name order). */
  limit?: number;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number, file: string) => void;
  onSkip?: (file: string, reason: string) => void;
}

/** The seed each image is degraded with: depends on the run's seed and the file's id only. */
export function imageSeed(seed: number, id: string): number {
  return deriveSeed(seed, 'synth', id);
}

async function realOrResolved(path: string): Promise<string> {
  // The deepest existing ancestor's real path + the rest, so symlinks cannot hide an overlap.
  const abs = resolve(path);
  let head = abs;
  const tail: string[] = [];
  for (;;) {
    try {
      return join(await realpath(head), ...tail);
    } catch {
      const parent = dirname(head);
      if (parent === head) return abs;
      tail.unshift(basename(head));
      head = parent;
    }
  }
}

function isInside(child: string, parent: string): boolean {
  const rel = relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

/** Output names: the id with a .png extension; ids that would collide (a.jpg, a.png) keep their extension. */
export function outputNames(ids: string[]): Map<string, string> {
  const stem = (id: string): string => id.slice(0, id.length - extname(id).length);
  const counts = new Map<string, number>();
  for (const id of ids) counts.set(stem(id), (counts.get(stem(id)) ?? 0) + 1);
  const names = new Map<string, string>();
  for (const id of ids) {
    const ext = extname(id);
    names.set(id, counts.get(stem(id))! > 1 ? `${stem(id)}_${ext.slice(1).toLowerCase()}.png` : `${stem(id)}.png`);
  }
  return names;
}

async function encodeRawPng(raw: RawRgbImage): Promise<Buffer> {
  if (raw.data instanceof Uint8Array) {
    return sharp(raw.data, { raw: { width: raw.width, height: raw.height, channels: 3 } }).png({ compressionLevel: 6 }).toBuffer();
  }
  return encodePng(rawToFloat(raw));
}

export async function synthesizeFolder(input: string, out: string, options: SynthFolderOptions): Promise<SynthReport> {
  const seed = (options.seed ?? 0) >>> 0;
  const scan = await scanDataset(input);
  const source = scan.dataset;
  const inputDir = await realOrResolved(source.kind === 'paired' ? join(source.root, 'clean') : source.root);
  const outDir = await realOrResolved(out);
  for (const target of [outDir, join(outDir, 'clean'), join(outDir, 'degraded')]) {
    if (isInside(target, inputDir)) {
      throw new StudioError('OUTPUT_UNWRITABLE', `The output folder ${resolve(out)} is inside the input ${inputDir}; choose a folder outside it.`);
    }
  }
  for (const side of ['clean', 'degraded']) {
    if (isInside(inputDir, join(outDir, side))) {
      throw new StudioError('OUTPUT_UNWRITABLE', `The input ${inputDir} is inside the output's ${side}/ folder; choose another output folder.`);
    }
  }

  // Clean images: the clean side of a paired folder, or the folder itself.
  let items = source.items.map((i) => ({ id: i.id, path: i.clean }));
  if (items.length === 0) throw new StudioError('DATASET_EMPTY', `${source.root} holds no images to degrade.`);
  if (options.limit !== undefined) items = items.slice(0, Math.max(0, options.limit));
  const names = outputNames(items.map((i) => i.id));

  try {
    await mkdir(join(outDir, 'clean'), { recursive: true });
    await mkdir(join(outDir, 'degraded'), { recursive: true });
  } catch (error) {
    throw new StudioError('OUTPUT_UNWRITABLE', `Cannot create ${outDir}: ${(error as Error).message}`);
  }

  const skipped: SynthReport['skipped'] = [];
  const traces: Record<string, AppliedStep[]> = {};
  let written = 0;
  let done = 0;
  await mapLimit(items, options.concurrency ?? 2, async (item) => {
    throwIfAborted(options.signal);
    const name = names.get(item.id)!;
    const file = relative(source.root, item.path).split('\\').join('/');
    try {
      let raw: RawRgbImage;
      try {
        raw = (await decodeImageFile(item.path)).image;
      } catch (error) {
        throw new SkipError(decodeFailureReason(error));
      }
      const result = await synthesize(rawToFloat(raw), options.recipe, imageSeed(seed, item.id));
      const [cleanPng, degradedPng] = await Promise.all([encodeRawPng(raw), encodePng(result.image)]);
      const cleanPath = join(outDir, 'clean', name);
      const degradedPath = join(outDir, 'degraded', name);
      await mkdir(dirname(cleanPath), { recursive: true });
      await mkdir(dirname(degradedPath), { recursive: true });
      try {
        await writeFileAtomic(cleanPath, cleanPng);
        await writeFileAtomic(degradedPath, degradedPng);
      } catch (error) {
        throw new StudioError('OUTPUT_UNWRITABLE', `Cannot write ${name} into ${outDir}: ${(error as Error).message}`);
      }
      traces[name] = result.applied;
      written++;
    } catch (error) {
      if (!(error instanceof SkipError)) throw error;
      skipped.push({ file, reason: error.message });
      options.onSkip?.(file, error.message);
    } finally {
      options.onProgress?.(++done, items.length, file);
    }
  });

  const clippedToPng = recipeMayExceedRange(options.recipe);
  const manifest = {
    preset: options.preset,
    seed,
    recipe: options.recipe,
    note: clippedToPng
      ? 'The recipe adds unclipped noise; the PNG files hold it clipped to [0, 255] and rounded. Synthesise on the fly to keep it exact.'
      : undefined,
    files: Object.fromEntries(Object.entries(traces).sort(([a], [b]) => (a < b ? -1 : 1))),
  };
  await writeFileAtomic(join(outDir, 'synth.json'), Buffer.from(JSON.stringify(manifest, null, 1) + '\n'));
  skipped.sort((a, b) => (a.file < b.file ? -1 : 1));
  return { written, out: outDir, preset: options.preset, seed, skipped, clippedToPng };
}

class SkipError extends Error {}
