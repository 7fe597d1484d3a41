// Photos dropped on the Restore view become copies in a fresh folder <dataDir>/dropped/<YYYYMMDD-HHMMSS[-n]>/,
// which the view then opens like any other folder. The originals are only ever read.
//
// One module for both ways in:
// - Electron: the renderer sends the dropped files' paths (files.importDropped); importDroppedPaths copies the
//   photos. A single dropped folder is not copied: its own path comes back and the view opens it.
// - Browser mode (a page never sees paths): the renderer first calls files.newDropFolder with the file names.
//   That checks every name and, when at least one is a photo, creates the folder; the folder's name is the
//   batch id. Each photo is then POSTed to /upload?batch=<batch>&name=<name> (browser-server.ts), which finds
//   the folder from the batch id (dropFolderForBatch: uploads never create folders) and writes the bytes with
//   saveDroppedFile. The batch id is the timestamped folder name, so the server keeps no state per batch.
// Every file is written through fs-atomic (temporary sibling, then rename), so a half-copied photo never
// appears under its real name.
import { lstat, mkdir, rmdir, stat } from 'node:fs/promises';
import sharp from 'sharp';
import { basename, extname, isAbsolute, join } from 'node:path';
import type { DropRejection, StudioContract } from '#shared/contract';
import type { OutputOf } from '#shared/rpc/protocol';
import { StudioError } from '#shared/rpc/errors';
import { IMAGE_EXTENSIONS } from '../engine/data/image';
import { copyFileAtomic, writeFileAtomic, type AtomicWriteOptions } from '../fs-atomic';
import { dataDir } from '../paths';
import { isImageFile } from './files';

/** The largest photo accepted (a drop or an upload). */
export const MAX_DROPPED_BYTES = 512 * 1024 * 1024;

/** A batch id is a dropped folder's name. */
export const BATCH_ID = /^[A-Za-z0-9_-]{1,64}$/;

// The shapes are the contract's (files.importDropped, files.newDropFolder).
export type DropImport = OutputOf<StudioContract, 'files.importDropped'>;
export type DropFolder = OutputOf<StudioContract, 'files.newDropFolder'>;

/** Where dropped photos go: `<dataDir>/dropped` (STUDIO_HOME honoured). */
export function droppedRoot(home: string = dataDir()): string {
  return join(home, 'dropped');
}

const SUPPORTED = [...IMAGE_EXTENSIONS].join(', ');

function megabytes(bytes: number): string {
  return `${Math.round(bytes / (1024 * 1024))} MB`;
}

/**
 * Why a dropped file name cannot be saved, or null when it can: a plain base name (no slashes, no '..', no
 * control characters, not hidden: folder listings skip dot files) with an image extension.
 */
export function droppedNameProblem(name: string): string | null {
  if (!name) return 'A file without a name was dropped.';
  if (/[/\\\u0000-\u001f\u007f]/.test(name) || name.includes('..')) return `${name} is not a plain file name.`;
  if (name.startsWith('.')) return `${name} is a hidden file (its name starts with a dot); rename it to import it.`;
  if (Buffer.byteLength(name) > 255) return `${name.slice(0, 40)}… has too long a name.`;
  if (!isImageFile(name)) return `${name} is not a photo (supported: ${SUPPORTED}).`;
  return null;
}

function two(n: number): string {
  return String(n).padStart(2, '0');
}

/** Creates a fresh `<root>/<YYYYMMDD-HHMMSS[-n]>` folder (local time; -2, -3… when the second is taken). */
export async function createDropFolder(root: string = droppedRoot(), now: Date = new Date()): Promise<string> {
  await mkdir(root, { recursive: true });
  const stamp =
    `${now.getFullYear()}${two(now.getMonth() + 1)}${two(now.getDate())}-` +
    `${two(now.getHours())}${two(now.getMinutes())}${two(now.getSeconds())}`;
  for (let n = 1; n <= 1000; n++) {
    const dir = join(root, n === 1 ? stamp : `${stamp}-${n}`);
    try {
      await mkdir(dir); // not recursive: fails when the folder exists, so two drops never share one
      return dir;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
  throw new StudioError('OUTPUT_UNWRITABLE', `Could not create a new folder in ${root}.`);
}

/** The folder of an upload batch: it must be an existing dropped folder (uploads never create folders). */
export async function dropFolderForBatch(batch: string, root: string = droppedRoot()): Promise<string> {
  if (!BATCH_ID.test(batch)) throw new StudioError('BAD_INPUT', 'The upload batch id is missing or malformed.');
  const dir = join(root, batch);
  const info = await lstat(dir).catch(() => null);
  if (!info?.isDirectory()) throw new StudioError('NOT_FOUND', `No drop folder ${batch}; start the drop again.`);
  return dir;
}

/** Browser mode's first step: checks the names and creates the folder their uploads go to. */
export async function newDropFolder(names: string[], root: string = droppedRoot()): Promise<DropFolder> {
  const rejected: DropRejection[] = [];
  for (const name of names) {
    const problem = droppedNameProblem(name);
    if (problem) rejected.push({ file: name, reason: problem });
  }
  if (rejected.length === names.length) return { dir: null, batch: null, rejected };
  const dir = await createDropFolder(root);
  return { dir, batch: basename(dir), rejected };
}

/** Names being written right now (lower-cased: case-insensitive file systems), so parallel saves never collide. */
const reserved = new Set<string>();

async function freePath(dir: string, name: string): Promise<string> {
  const ext = extname(name);
  const stem = name.slice(0, name.length - ext.length);
  for (let n = 1; ; n++) {
    const path = join(dir, n === 1 ? name : `${stem} (${n})${ext}`);
    if (reserved.has(path.toLowerCase())) continue;
    if (await stat(path).then(() => true, () => false)) continue;
    reserved.add(path.toLowerCase());
    return path;
  }
}

/** Passes the stream through, throwing once more than `maxBytes` went by (the partial file is then removed). */
async function* capped(stream: AsyncIterable<Uint8Array>, name: string, maxBytes: number): AsyncIterable<Uint8Array> {
  let size = 0;
  for await (const chunk of stream) {
    size += chunk.length;
    if (size > maxBytes) throw tooLarge(name, maxBytes);
    yield chunk;
  }
}

function tooLarge(name: string, maxBytes: number): StudioError {
  return new StudioError('BAD_INPUT', `${name} is larger than ${megabytes(maxBytes)}.`, { tooLarge: true });
}

/** True for the error saveDroppedFile throws when the bytes exceed the limit (HTTP 413). */
export function isTooLarge(error: unknown): boolean {
  return error instanceof StudioError && (error.details as { tooLarge?: boolean } | undefined)?.tooLarge === true;
}

/** The formats a photo may be (sharp's names); an SVG or an HTML page named .png is not one. */
const PHOTO_FORMATS = new Set(['jpeg', 'png', 'webp', 'tiff', 'gif', 'heif', 'avif']);

/**
 * Checks what a saved file holds, not what it is called: an empty file, text or a page named .jpg, or a
 * format that is not a photo is refused with a sentence (the name's extension alone proves nothing).
 */
export async function droppedContentProblem(file: string, name: string): Promise<string | null> {
  const { size } = await stat(file);
  if (size === 0) return `${name} is empty (0 bytes).`;
  const format = await sharp(file)
    .metadata()
    .then((m) => m.format as string | undefined, () => undefined);
  if (!format) return `${name} is not a photo: its content is not an image the studio can read.`;
  if (!PHOTO_FORMATS.has(format)) return `${name} is not a photo: it holds ${format.toUpperCase()} data.`;
  return null;
}

async function refuseUnlessPhoto(tmp: string, name: string): Promise<void> {
  const problem = await droppedContentProblem(tmp, name);
  if (problem) throw new StudioError('IMAGE_UNREADABLE', problem);
}

/**
 * Writes a dropped photo into `dir` under its own name (`name (2).png` when taken); returns its path. The
 * content is checked before the file takes its name, so a non-photo never appears in the folder.
 */
async function saveUnder(dir: string, name: string, write: (path: string, options: AtomicWriteOptions) => Promise<void>): Promise<string> {
  const problem = droppedNameProblem(name);
  if (problem) throw new StudioError('BAD_INPUT', problem);
  const path = await freePath(dir, name);
  try {
    await write(path, { check: (tmp) => refuseUnlessPhoto(tmp, name) });
  } finally {
    reserved.delete(path.toLowerCase());
  }
  return path;
}

/**
 * Saves one uploaded photo (bytes, or a stream written to disk as it arrives) into `dir`. Throws BAD_INPUT for a
 * bad name, or when the bytes exceed `maxBytes` (see isTooLarge).
 */
export async function saveDroppedFile(
  dir: string,
  name: string,
  data: Uint8Array | AsyncIterable<Uint8Array>,
  options: { maxBytes?: number } = {},
): Promise<string> {
  const maxBytes = options.maxBytes ?? MAX_DROPPED_BYTES;
  if (data instanceof Uint8Array && data.length > maxBytes) throw tooLarge(name, maxBytes);
  const body = data instanceof Uint8Array ? data : capped(data, name, maxBytes);
  return saveUnder(dir, name, (path, atomic) => writeFileAtomic(path, body, atomic));
}

/**
 * Electron's drop: copies the photos among `paths` into a new dropped folder. One dropped folder comes back
 * as is (nothing copied). Each bad entry is reported in `rejected`; none makes the whole drop fail.
 */
export async function importDroppedPaths(
  paths: string[],
  options: { root?: string; maxBytes?: number } = {},
): Promise<DropImport> {
  const maxBytes = options.maxBytes ?? MAX_DROPPED_BYTES;
  if (paths.length === 1 && paths[0] && isAbsolute(paths[0])) {
    const info = await stat(paths[0]).catch(() => null);
    if (info?.isDirectory()) return { dir: paths[0], imported: [], rejected: [] };
  }
  const imported: string[] = [];
  const rejected: DropRejection[] = [];
  let dir: string | null = null;
  for (const path of paths) {
    const name = basename(path ?? '');
    const reject = (reason: string): void => void rejected.push({ file: path, reason });
    if (!path || !isAbsolute(path)) {
      reject(`${path || 'An empty path'} is not an absolute path.`);
      continue;
    }
    const info = await stat(path).catch((error: NodeJS.ErrnoException) => error);
    if (info instanceof Error) {
      reject(info.code === 'ENOENT' ? `${name} was not found at ${path}.` : `${name} cannot be read (${info.code ?? info.message}).`);
      continue;
    }
    if (info.isDirectory()) {
      reject(`${name} is a folder; drop a folder on its own to open it.`);
      continue;
    }
    const problem = droppedNameProblem(name);
    if (problem) {
      reject(problem);
      continue;
    }
    if (!info.isFile()) {
      reject(`${name} is not a regular file.`);
      continue;
    }
    if (info.size > maxBytes) {
      reject(`${name} is larger than ${megabytes(maxBytes)}.`);
      continue;
    }
    try {
      dir ??= await createDropFolder(options.root ?? droppedRoot());
      imported.push(await saveUnder(dir, name, (copy, atomic) => copyFileAtomic(path, copy, atomic)));
    } catch (error) {
      if (error instanceof StudioError) {
        reject(error.message);
        continue;
      }
      const code = (error as NodeJS.ErrnoException).code;
      reject(`${name} could not be copied (${code ?? (error as Error).message}).`);
    }
  }
  if (dir && imported.length === 0) {
    await rmdir(dir).catch(() => undefined);
    dir = null;
  }
  return { dir, imported, rejected };
}
