// Builds the app (electron-vite) when out/ is missing or older than any source file.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const STAMP = join('out', '.build-stamp');
const INPUTS = ['src', 'electron.vite.config.ts', 'package.json'];

function newestMtime(path: string): number {
  const info = statSync(path);
  if (!info.isDirectory()) return info.mtimeMs;
  let newest = info.mtimeMs;
  for (const name of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, name)));
  return newest;
}

export function buildIfNeeded(log: (line: string) => void = console.log): void {
  const sourceTime = Math.max(...INPUTS.filter(existsSync).map(newestMtime));
  if (existsSync(STAMP) && statSync(STAMP).mtimeMs >= sourceTime && existsSync(join('out', 'renderer', 'index.html'))) return;
  log('Building the studio (electron-vite build)…');
  const result = spawnSync(process.execPath, [join('node_modules', 'electron-vite', 'bin', 'electron-vite.js'), 'build'], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  if (result.status !== 0) throw new Error('The build failed; see the messages above.');
  writeFileSync(STAMP, new Date().toISOString() + '\n');
}
