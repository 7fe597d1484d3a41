// Atomic folder and file writes: build everything in a temporary sibling, then rename into place, so a crash
// never leaves a half-written package or checkpoint under the real name.
import { randomBytes } from 'node:crypto';
import { copyFile, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** `.name.tmp-<pid>-<8 hex>` (being written) or `.name.old-<pid>-<8 hex>` (being replaced). */
export function tmpSibling(target: string, tag: 'tmp' | 'old'): string {
  return join(dirname(target), `.${basename(target)}.${tag}-${process.pid}-${randomBytes(4).toString('hex')}`);
}

/** The names tmpSibling makes: what a process killed mid-write leaves behind, safe to remove later. */
export const ATOMIC_TEMP_NAME = /^\..+\.(?:tmp|old)-\d+-[0-9a-f]{8}$/;

export function isAtomicTempName(name: string): boolean {
  return ATOMIC_TEMP_NAME.test(name);
}

/**
 * Creates `target` by filling a temporary sibling folder with `fill` and renaming it into place. If `target`
 * exists it is replaced only when `replace` is true (the old folder is moved aside first, then removed).
 */
export async function writeDirAtomic(
  target: string,
  fill: (dir: string) => Promise<void>,
  options: { replace?: boolean } = {},
): Promise<void> {
  await mkdir(dirname(target), { recursive: true });
  const tmp = tmpSibling(target, 'tmp');
  await mkdir(tmp, { recursive: true });
  try {
    await fill(tmp);
    try {
      await rename(tmp, target);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (!options.replace || (code !== 'ENOTEMPTY' && code !== 'EEXIST' && code !== 'EPERM')) throw error;
      const old = tmpSibling(target, 'old');
      await rename(target, old);
      await rename(tmp, target);
      await rm(old, { recursive: true, force: true });
    }
  } catch (error) {
    await rm(tmp, { recursive: true, force: true });
    throw error;
  }
}

export interface AtomicWriteOptions {
  /** Runs on the finished temporary file before it takes the real name; throwing removes it instead. */
  check?: (tmp: string) => Promise<void>;
}

/** Fills a temporary sibling of `path` with `write`, then renames it into place (removed on failure). */
export async function writeFileAtomicWith(path: string, write: (tmp: string) => Promise<void>, options: AtomicWriteOptions = {}): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = tmpSibling(path, 'tmp');
  try {
    await write(tmp);
    await options.check?.(tmp);
    await rename(tmp, path);
  } catch (error) {
    await rm(tmp, { force: true });
    throw error;
  }
}

/**
 * Writes a file through a temporary sibling and a rename. A stream is written as it arrives (never held in
 * memory whole); if it throws part-way, nothing appears under `path`.
 */
export async function writeFileAtomic(
  path: string,
  data: string | Uint8Array | AsyncIterable<Uint8Array>,
  options: AtomicWriteOptions = {},
): Promise<void> {
  await writeFileAtomicWith(path, (tmp) => writeFile(tmp, data), options);
}

/** Copies `source` to `path` through a temporary sibling and a rename. */
export async function copyFileAtomic(source: string, path: string, options: AtomicWriteOptions = {}): Promise<void> {
  await writeFileAtomicWith(path, (tmp) => copyFile(source, tmp), options);
}

/** Names starting with a dot are temporaries (or hidden files) and never count as packages or checkpoints. */
export function isTemporaryName(name: string): boolean {
  return name.startsWith('.');
}
