// File helpers shared by every service that writes: outputs go to a temporary name in the same folder and
// are renamed into place, so a crash never leaves a half-written file under the final name.
import { randomBytes } from 'node:crypto';
import { readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { homedir } from 'node:os';
import type { FileEntry, FolderListing } from '../../shared/contract';
import { StudioError } from '../../shared/rpc/errors';

export async function writeFileAtomic(file: string, data: string | Uint8Array): Promise<void> {
  const temp = join(dirname(file), `.${basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    await writeFile(temp, data);
    await rename(temp, file);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

export const IMAGE_EXTENSIONS = new Set(['.jpg', '.jpeg', '.png', '.webp', '.tif', '.tiff', '.gif', '.avif', '.bmp']);

export function isImageFile(name: string): boolean {
  return IMAGE_EXTENSIONS.has(extname(name).toLowerCase());
}

/** One folder's entries for the in-app folder browser: folders first, then files, hidden ones left out. */
export async function listFolder(dir: string = homedir()): Promise<FolderListing> {
  const absolute = resolve(dir);
  let names: string[];
  try {
    names = await readdir(absolute);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new StudioError(
      'NOT_FOUND',
      code === 'ENOTDIR' ? `${absolute} is not a folder.` : `Cannot open the folder ${absolute} (${code ?? 'unknown error'}).`,
    );
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
