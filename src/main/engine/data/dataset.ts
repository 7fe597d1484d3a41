// What a dataset folder is, found from file names alone (no decoding, so it is instant on any size):
// - paired: `<dir>/degraded/` and `<dir>/clean/` hold files with the same names (subfolders allowed).
//   Files match by relative path; when extensions differ (a.jpg ↔ a.png) they match by stem.
// - clean-only: any other folder of images (searched recursively; `<dir>/clean/` alone is used if present).
//   Degraded inputs are synthesised on the fly from a recipe.
// `checkDataset` (./check.ts) decodes every file to find what this cannot see (corrupt files, sizes…).
import { readdir, stat } from 'node:fs/promises';
import { extname, join, relative, resolve, sep } from 'node:path';
import { StudioError } from '#shared/rpc/errors';
import { EXTENSION_PREFERENCE, isImageFileName } from './image';

export type DatasetKind = 'paired' | 'clean';

export interface DatasetItem {
  /** Stable identifier: the clean file's path relative to its side folder, with '/' separators. */
  id: string;
  /** Absolute path of the clean image. */
  clean: string;
  /** Absolute path of the degraded image (paired datasets only). */
  degraded?: string;
}

export interface Dataset {
  /** Absolute path of the dataset folder. */
  root: string;
  kind: DatasetKind;
  /** Sorted by id. */
  items: DatasetItem[];
}

export interface ScanResult {
  dataset: Dataset;
  /** Paths relative to root ('/' separators). */
  unpaired: string[];
  nonImages: string[];
  /** All image files seen, relative to root. */
  imageFiles: string[];
  counts: { degraded: number; clean: number };
}

const SKIP_NAMES = new Set(['Thumbs.db', 'desktop.ini']);

function toPosix(path: string): string {
  return sep === '/' ? path : path.split(sep).join('/');
}

/** Every file under dir (recursively), relative to dir, sorted. Hidden files and folders are skipped. */
export async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  async function walk(current: string): Promise<void> {
    const entries = await readdir(current, { withFileTypes: true });
    for (const entry of entries) {
      if (entry.name.startsWith('.') || SKIP_NAMES.has(entry.name)) continue;
      const full = join(current, entry.name);
      if (entry.isDirectory()) await walk(full);
      else if (entry.isFile() || entry.isSymbolicLink()) out.push(toPosix(relative(dir, full)));
    }
  }
  await walk(dir);
  return out.sort();
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

function stemOf(rel: string): string {
  const ext = extname(rel);
  return ext ? rel.slice(0, -ext.length) : rel;
}

function extRank(rel: string): number {
  const i = EXTENSION_PREFERENCE.indexOf(extname(rel).toLowerCase());
  return i < 0 ? EXTENSION_PREFERENCE.length : i;
}

function byPreference(a: string, b: string): number {
  return extRank(a) - extRank(b) || (a < b ? -1 : a > b ? 1 : 0);
}

/** Pairs two sorted lists of relative image paths. Exact names first, then the same stem (preferring
 *  lossless extensions); whatever is left has no partner. */
export function pairFiles(degraded: string[], clean: string[]): { pairs: [string, string][]; unpairedDegraded: string[]; unpairedClean: string[] } {
  const pairs: [string, string][] = [];
  const cleanSet = new Set(clean);
  const usedClean = new Set<string>();
  const restDegraded: string[] = [];
  for (const d of degraded) {
    if (cleanSet.has(d)) {
      pairs.push([d, d]);
      usedClean.add(d);
    } else restDegraded.push(d);
  }
  const cleanByStem = new Map<string, string[]>();
  for (const c of clean) {
    if (usedClean.has(c)) continue;
    const list = cleanByStem.get(stemOf(c)) ?? [];
    list.push(c);
    cleanByStem.set(stemOf(c), list);
  }
  for (const list of cleanByStem.values()) list.sort(byPreference);
  const unpairedDegraded: string[] = [];
  // A stem whose exact-name pair already exists keeps its other files unpaired (ambiguous otherwise).
  const pairedStems = new Set(pairs.map(([d]) => stemOf(d)));
  for (const d of restDegraded.sort(byPreference)) {
    const stem = stemOf(d);
    const candidates = pairedStems.has(stem) ? undefined : cleanByStem.get(stem);
    const c = candidates?.shift();
    if (c) {
      pairs.push([d, c]);
      usedClean.add(c);
      pairedStems.add(stem);
    } else unpairedDegraded.push(d);
  }
  pairs.sort((a, b) => (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
  return {
    pairs,
    unpairedDegraded: unpairedDegraded.sort(),
    unpairedClean: clean.filter((c) => !usedClean.has(c)),
  };
}

/** Finds the dataset's layout and its pairs from file names. Throws NOT_FOUND / BAD_INPUT / DATASET_EMPTY. */
export async function scanDataset(dir: string): Promise<ScanResult> {
  const root = resolve(dir);
  let info;
  try {
    info = await stat(root);
  } catch {
    throw new StudioError('NOT_FOUND', `The dataset folder ${root} does not exist.`);
  }
  if (!info.isDirectory()) throw new StudioError('BAD_INPUT', `${root} is not a folder.`);
  const hasDegraded = await isDirectory(join(root, 'degraded'));
  const hasClean = await isDirectory(join(root, 'clean'));

  if (hasDegraded && !hasClean) {
    throw new StudioError('DATASET_UNPAIRED', `${root} has a degraded/ folder but no clean/ folder to pair it with.`);
  }
  if (hasDegraded && hasClean) {
    const split = (files: string[]): { images: string[]; others: string[] } => ({
      images: files.filter(isImageFileName),
      others: files.filter((f) => !isImageFileName(f)),
    });
    const d = split(await listFiles(join(root, 'degraded')));
    const c = split(await listFiles(join(root, 'clean')));
    const { pairs, unpairedDegraded, unpairedClean } = pairFiles(d.images, c.images);
    const items: DatasetItem[] = pairs.map(([dr, cr]) => ({
      id: cr,
      clean: join(root, 'clean', cr),
      degraded: join(root, 'degraded', dr),
    }));
    return {
      dataset: { root, kind: 'paired', items },
      unpaired: [...unpairedDegraded.map((f) => `degraded/${f}`), ...unpairedClean.map((f) => `clean/${f}`)],
      nonImages: [...d.others.map((f) => `degraded/${f}`), ...c.others.map((f) => `clean/${f}`)],
      imageFiles: [...d.images.map((f) => `degraded/${f}`), ...c.images.map((f) => `clean/${f}`)],
      counts: { degraded: d.images.length, clean: c.images.length },
    };
  }
  const base = hasClean ? join(root, 'clean') : root;
  const prefix = hasClean ? 'clean/' : '';
  const files = await listFiles(base);
  const images = files.filter(isImageFileName);
  return {
    dataset: { root, kind: 'clean', items: images.map((f) => ({ id: f, clean: join(base, f) })) },
    unpaired: [],
    nonImages: files.filter((f) => !isImageFileName(f)).map((f) => prefix + f),
    imageFiles: images.map((f) => prefix + f),
    counts: { degraded: 0, clean: images.length },
  };
}

/** scanDataset, then insists on at least one usable item. */
export async function openDataset(dir: string): Promise<Dataset> {
  const { dataset } = await scanDataset(dir);
  if (dataset.items.length === 0) {
    throw new StudioError(
      dataset.kind === 'paired' ? 'DATASET_UNPAIRED' : 'DATASET_EMPTY',
      dataset.kind === 'paired'
        ? `${dataset.root} has degraded/ and clean/ folders but no files with matching names.`
        : `${dataset.root} holds no images (JPEG, PNG, WebP, TIFF, GIF, AVIF).`,
    );
  }
  return dataset;
}

/** A path relative to the dataset root, for reports. */
export function relativeToRoot(dataset: Dataset, path: string): string {
  return toPosix(relative(dataset.root, path));
}
