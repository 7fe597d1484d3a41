// Taking the output folder of a batch restore: made if missing, locked against a second batch, cleared of
// the temporary files a killed batch left, and its journal opened. Write failures are named in words.
import { constants } from 'node:fs';
import { access, mkdir, open, readdir, readFile, rm, stat, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { StudioError } from '#shared/rpc/errors';
import { isAtomicTempName } from '../../fs-atomic';
import { processAlive } from '../../process-alive';
import { isInside, realOrResolved } from './batch-plan';
import { Journal } from './journal';

export const LOCK_NAME = '.studio-restore.lock';

/** Codes that mean the output cannot be written at all (the batch stops instead of failing every file). */
export const WRITE_ERRORS = new Set(['EACCES', 'EPERM', 'EROFS', 'ENOSPC', 'EDQUOT', 'ENOTDIR', 'EEXIST', 'EISDIR']);

/**
 * The real reason a write under `dir` failed. Creating a folder on a read-only disk reports ENOENT (Node's
 * recursive mkdir gives up on the missing parent); asking the nearest existing folder whether it can be written
 * to names the cause (EROFS, EACCES).
 */
export async function writeFailure(dir: string, error: unknown): Promise<unknown> {
  if ((error as NodeJS.ErrnoException).code !== 'ENOENT') return error;
  for (let folder = dir; ; folder = dirname(folder)) {
    if (await stat(folder).then(() => true, () => false)) {
      return access(folder, constants.W_OK).then(() => error, (denied: unknown) => denied);
    }
    if (dirname(folder) === folder) return error;
  }
}

export function unwritable(out: string, error: unknown): StudioError {
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

async function ensureFolder(out: string): Promise<void> {
  try {
    await mkdir(out, { recursive: true });
    if (!(await stat(out)).isDirectory()) throw Object.assign(new Error('not a folder'), { code: 'ENOTDIR' });
  } catch (error) {
    throw unwritable(out, await writeFailure(out, error));
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
      if (typeof owner.pid === 'number' && sameHost && owner.pid !== process.pid && processAlive(owner.pid)) {
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
 * Removes temporaries a killed batch left behind (writeFileAtomic's temporary siblings, large photos' scratch
 * folders) in the output
 * folder, never descending into the input folder (when the output folder contains it).
 */
async function removeStaleTemps(dir: string, inputRoot: string, outRoot: string): Promise<void> {
  if (!isInside(outRoot, inputRoot) && isInside(await realOrResolved(dir), inputRoot)) return;
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const entry of entries) {
    const path = join(dir, entry.name);
    // A temporary folder is a large photo's scratch (decoded pixels, restored strips): removed whole.
    if (isAtomicTempName(entry.name)) await rm(path, { recursive: true, force: true }).catch(() => {});
    else if (entry.isDirectory()) await removeStaleTemps(path, inputRoot, outRoot);
  }
}

/** The output folder, held: its journal, and `release` (closes the journal, drops the lock) for a finally. */
export interface HeldOutput {
  journal: Journal;
  release: () => Promise<void>;
}

/** Makes, locks and cleans the output folder and opens its journal. Only one batch holds a folder at a time. */
export async function holdOutput(out: string, realRoot: string): Promise<HeldOutput> {
  await ensureFolder(out);
  const releaseLock = await acquireLock(out);
  try {
    await removeStaleTemps(out, realRoot, await realOrResolved(out));
    let journal: Journal;
    try {
      journal = await Journal.open(out);
    } catch (error) {
      throw unwritable(out, error);
    }
    return {
      journal,
      release: async () => {
        await journal.close().catch(() => {});
        await releaseLock();
      },
    };
  } catch (error) {
    await releaseLock();
    throw error;
  }
}
