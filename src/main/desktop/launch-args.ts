// Paths a launch asks the studio to open: from the command line of a second instance (which the first
// receives), or of the first. Flags and the executable itself are not paths. Linux desktop files pass
// `%U`, so files can arrive as file:// URIs; those are converted to paths.
import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** A command-line argument as a path: file:// URIs decoded, anything else (other schemes) dropped. */
export function argToPath(arg: string, cwd: string): string | null {
  if (/^file:/i.test(arg)) {
    try {
      return fileURLToPath(arg);
    } catch {
      return null;
    }
  }
  if (/^[a-z][a-z0-9+.-]+:\/\//i.test(arg)) return null;
  return isAbsolute(arg) ? arg : resolve(cwd, arg);
}

export function pathsFromArgv(argv: readonly string[], cwd: string, exists: (p: string) => boolean = existsSync): string[] {
  // argv[0] is the executable; in development argv[1] is the app folder (`electron .`).
  const args = argv.slice(1).filter((a) => !a.startsWith('-'));
  const paths: string[] = [];
  for (const arg of args) {
    const full = argToPath(arg, cwd);
    if (full === null || arg === '.' || full === cwd) continue;
    if (exists(full) && !paths.includes(full)) paths.push(full);
  }
  return paths;
}
