// File helpers for the services: which files are images, and folder listings for the in-app browser.
import { readdir, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { homedir } from 'node:os';
import type { FileEntry, FolderListing } from '#shared/contract';
import { StudioError } from '#shared/rpc/errors';
import { isImageFileName } from '../engine/data/image';


/** The same rule as the data pipeline's: one list of image extensions for the whole studio. */
export const isImageFile = isImageFileName;

/** One folder's entries for the in-app folder browser: folders first, then files, hidden ones left out. */
export async function listFolder(dir: string = homedir()): Promise<FolderListing> {
  const absolute = resolve(dir);
  let names: string[];
  try {
    names = await readdir(absolute);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why: Record<string, string> = {
      ENOTDIR: `${absolute} is a file, not a folder.`,
      ENOENT: `There is no folder ${absolute}.`,
      EACCES: `The studio is not allowed to open the folder ${absolute}.`,
      EPERM: `The studio is not allowed to open the folder ${absolute}.`,
    };
    throw new StudioError('NOT_FOUND', why[code ?? ''] ?? `The folder ${absolute} cannot be opened (${code ?? 'unknown error'}).`);
  }
  const entries: FileEntry[] = [];
  for (const name of names) {
    if (name.startsWith('.')) continue;
    const path = join(absolute, name);
    const info = await stat(path).catch(() => null);
    if (!info) continue;
    const kind = info.isDirectory() ? 'dir' : isImageFile(name) ? 'image' : 'file';
    entries.push({ name, path, kind, size: info.isDirectory() ? 0 : info.size });
  }
  entries.sort((a, b) => Number(b.kind === 'dir') - Number(a.kind === 'dir') || a.name.localeCompare(b.name));
  const parent = dirname(absolute);
  return { dir: absolute, parent: parent === absolute ? null : parent, entries };
}

/** The absolute path of an existing folder, or a sentence saying what is there instead. */
export async function requireFolder(dir: string): Promise<string> {
  const absolute = resolve(dir);
  const info = await stat(absolute).catch(() => null);
  if (!info) throw new StudioError('NOT_FOUND', `There is no folder ${absolute}.`);
  if (!info.isDirectory()) throw new StudioError('BAD_INPUT', `${absolute} is a file, not a folder.`);
  return absolute;
}
