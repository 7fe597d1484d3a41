// Paths a launch asks the studio to open: from the command line of a second instance (which the first
// receives), or of the first. Flags and the executable itself are not paths.
import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';

export function pathsFromArgv(argv: readonly string[], cwd: string, exists: (p: string) => boolean = existsSync): string[] {
  // argv[0] is the executable; in development argv[1] is the app folder (`electron .`).
  const args = argv.slice(1).filter((a) => !a.startsWith('-'));
  const paths: string[] = [];
  for (const arg of args) {
    const full = isAbsolute(arg) ? arg : resolve(cwd, arg);
    if (arg === '.' || full === cwd) continue;
    if (exists(full) && !paths.includes(full)) paths.push(full);
  }
  return paths;
}
