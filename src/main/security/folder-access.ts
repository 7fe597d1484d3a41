// The image allow-list: the image protocol (Electron) and the image route (browser mode) serve only files
// under folders the user opened, plus the app's own data. Paths are resolved through symlinks before the
// check, so a link inside an allowed folder cannot point outside it.
import { realpath, stat } from 'node:fs/promises';
import { isAbsolute, relative, resolve } from 'node:path';
import { StudioError } from '#shared/rpc/errors';

export class FolderAccess {
  private readonly roots = new Set<string>();

  constructor(initialRoots: string[] = []) {
    for (const r of initialRoots) this.roots.add(resolve(r));
  }

  /** Grants access to a folder (after the user opened it). Stores its real path. */
  async allow(dir: string): Promise<string> {
    const real = await realpath(resolve(dir)).catch(() => {
      throw new StudioError('NOT_FOUND', `The folder ${dir} does not exist.`);
    });
    const info = await stat(real);
    if (!info.isDirectory()) throw new StudioError('BAD_INPUT', `${dir} is not a folder.`);
    this.roots.add(real);
    return real;
  }

  list(): string[] {
    return [...this.roots];
  }

  /**
   * Returns the real path of a file when it lies under an allowed root; throws FORBIDDEN_PATH otherwise.
   * Relative paths are refused outright: callers must send absolute paths.
   */
  async resolveFile(requested: string): Promise<string> {
    if (!requested || requested.includes('\0') || !isAbsolute(requested)) {
      throw new StudioError('FORBIDDEN_PATH', 'Only absolute paths inside an opened folder can be shown.');
    }
    let real: string;
    try {
      real = await realpath(resolve(requested));
    } catch {
      throw new StudioError('NOT_FOUND', `No file at ${requested}.`);
    }
    for (const root of this.roots) {
      const realRoot = await realpath(root).catch(() => null);
      if (!realRoot) continue;
      const rel = relative(realRoot, real);
      if (rel === '' || (!rel.startsWith('..') && !isAbsolute(rel))) {
        const info = await stat(real);
        if (!info.isFile()) throw new StudioError('NOT_FOUND', `${requested} is not a file.`);
        return real;
      }
    }
    throw new StudioError('FORBIDDEN_PATH', `${requested} is outside the folders you opened.`);
  }
}
