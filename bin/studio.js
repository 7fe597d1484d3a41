#!/usr/bin/env node
// The installed `studio` command: runs the built CLI (out/main/cli.js), or the TypeScript source through tsx
// in a checkout that has not been built.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const built = join(root, 'out', 'main', 'cli.js');
if (existsSync(built)) {
  const { main } = await import(pathToFileURL(built).href);
  process.exitCode = await main(process.argv.slice(2));
} else {
  const { register } = await import('tsx/esm/api');
  register();
  const { main } = await import(pathToFileURL(join(root, 'src', 'main', 'cli', 'index.ts')).href);
  process.exitCode = await main(process.argv.slice(2));
}
