// Planning a batch restore before anything is written: which files, where their outputs go, which of them an
// earlier run already finished (the journal), and how big they are (for totals and the estimate).
import { readdir, realpath, stat } from 'node:fs/promises';
import { basename, dirname, extname, join, relative, resolve, sep } from 'node:path';
import sharp from 'sharp';
import { StudioError } from '#shared/rpc/errors';
import { isImageFileName } from '../data/image';
import type { Journal } from './journal';
import { DEFAULT_QUALITY, outputFormatFor, outputNameFor, type FormatChoice } from './photo';
import type { RestoreBatchOptions } from './batch';

export interface PlannedFile {
  input: string;
  file: string;
  outputRel: string;
  output: string;
  format: ReturnType<typeof outputFormatFor>;
}

/** One file to restore in this run; `megapixels` is the header's size until the decode says otherwise. */
export interface WorkItem {
  plan: PlannedFile;
  megapixels: number;
}

/** What restoreBatch was asked to do, checked and resolved to real folders. */
export interface BatchTarget {
  formatChoice: FormatChoice;
  quality: number;
  /** The input folder (a single file's folder). */
  root: string;
  realRoot: string;
  out: string;
  /** The output folder sits inside the input folder (it is then skipped when listing inputs). */
  outInsideInput: boolean;
  inputs: string[];
}

export function isInside(child: string, parent: string): boolean {
  return child === parent || child.startsWith(parent.endsWith(sep) ? parent : parent + sep);
}

export async function realOrResolved(path: string): Promise<string> {
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
      } else if (isFile && isImageFileName(entry.name)) {
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

/** Checks the options and finds the inputs; throws a sentence for every request that cannot run. */
export async function resolveTarget(options: RestoreBatchOptions): Promise<BatchTarget> {
  if (!options.model) throw new StudioError('BAD_INPUT', 'No model given.');
  const formatChoice = options.format ?? 'keep';
  const quality = options.quality ?? DEFAULT_QUALITY;
  if (!Number.isInteger(quality) || quality < 1 || quality > 100) throw new StudioError('BAD_INPUT', `Quality must be a whole number from 1 to 100 (got ${quality}).`);
  if (options.tile !== undefined && (!Number.isInteger(options.tile) || options.tile < 16)) {
    throw new StudioError('BAD_INPUT', `The tile size must be a whole number of pixels, at least 16 (got ${options.tile}).`);
  }
  const inputPath = resolve(options.input);
  const inputStat = await stat(inputPath).catch(() => null);
  if (!inputStat) throw new StudioError('NOT_FOUND', `There is no file or folder at ${inputPath}.`);
  const singleFile = !inputStat.isDirectory();
  const root = singleFile ? dirname(inputPath) : inputPath;
  if (singleFile && !isImageFileName(inputPath)) {
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
  return { formatChoice, quality, root, realRoot, out, outInsideInput, inputs };
}

/** Skipped files as outcomes (already restored, or not failed under retryFailed) and the rest to restore. */
export interface Work {
  toDo: WorkItem[];
  skippedFiles: { status: 'skipped'; file: string; output: string | null; reason: string }[];
}

/**
 * Splits the planned files into work and skips: a file is skipped when its last journal record is a finish
 * with the same input (size + mtime) and settings and its output is still there at the recorded size.
 */
export async function sortWork(planned: PlannedFile[], journal: Journal, out: string, settings: string, retryFailed: boolean): Promise<Work> {
  const toDo: WorkItem[] = [];
  const skippedFiles: Work['skippedFiles'] = [];
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
      skippedFiles.push({ status: 'skipped', file: plan.file, output: last.output, reason: 'already restored' });
    } else if (retryFailed && last?.event !== 'failed') {
      skippedFiles.push({ status: 'skipped', file: plan.file, output: null, reason: 'did not fail before (--retry-failed)' });
    } else {
      toDo.push({ plan, megapixels: 0 });
    }
  }
  return { toDo, skippedFiles };
}

async function sizeOf(path: string): Promise<{ width: number; height: number }> {
  try {
    const meta = await sharp(path).metadata();
    return { width: meta.width ?? 0, height: meta.height ?? 0 };
  } catch {
    return { width: 0, height: 0 };
  }
}

/** Header sizes of the work (0x0 for an unreadable header), setting each item's megapixels. */
export async function measureWork(toDo: WorkItem[]): Promise<{ width: number; height: number }[]> {
  const sizes = [];
  for (const item of toDo) {
    const size = await sizeOf(item.plan.input);
    sizes.push(size);
    item.megapixels = (size.width * size.height) / 1e6;
  }
  return sizes;
}
