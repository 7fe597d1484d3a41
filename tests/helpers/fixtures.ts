// Fixtures made by code: temporary folders and small images drawn with sharp.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';

export async function tempDir(prefix = 'studio-test-'): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** A small colourful PNG (a gradient with a square), deterministic for a given seed. */
export async function writeTestImage(file: string, width = 32, height = 24, seed = 1): Promise<Buffer> {
  const pixels = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      const inSquare = x > width / 4 && x < (3 * width) / 4 && y > height / 4 && y < (3 * height) / 4;
      pixels[i] = (x * 255) / width;
      pixels[i + 1] = (y * 255) / height;
      pixels[i + 2] = inSquare ? (seed * 97) % 256 : 40;
    }
  }
  const png = await sharp(pixels, { raw: { width, height, channels: 3 } }).png().toBuffer();
  await sharp(png).toFile(file);
  return png;
}

/** A folder of `count` small scans (scan-0.png …) and one file that is not a photo (broken.jpg), as a user might open. */
export async function writeScanFolder(dir: string, count: number): Promise<void> {
  const { mkdir, writeFile } = await import('node:fs/promises');
  await mkdir(dir, { recursive: true });
  for (let i = 0; i < count; i++) await writeTestImage(join(dir, `scan-${i}.png`), 120, 90, i + 3);
  await writeFile(join(dir, 'broken.jpg'), Buffer.from('this is not a jpeg'));
}

/**
 * Leaves what a process killed in the middle of an atomic write leaves: a real writeFileAtomic of `path` in a
 * child process, killed with SIGKILL once its temporary sibling exists. Returns the leftover's name.
 */
export async function killedMidWrite(path: string): Promise<string> {
  const { spawn } = await import('node:child_process');
  const { readdir } = await import('node:fs/promises');
  const { basename, dirname } = await import('node:path');
  const atomic = new URL('../../src/main/fs-atomic.ts', import.meta.url).href;
  const script = `
    const { writeFileAtomic } = await import(${JSON.stringify(atomic)});
    async function* forever() { yield new Uint8Array(64); await new Promise(() => setInterval(() => {}, 1000)); }
    await writeFileAtomic(${JSON.stringify(path)}, forever());`;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: 'ignore' });
  const prefix = `.${basename(path)}.tmp-${child.pid}-`;
  const deadline = Date.now() + 20_000;
  try {
    for (;;) {
      const leftover = (await readdir(dirname(path)).catch(() => [] as string[])).find((n) => n.startsWith(prefix));
      if (leftover) return leftover;
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`the writer of ${path} never started its temporary file`);
      await new Promise((r) => setTimeout(r, 50));
    }
  } finally {
    child.kill('SIGKILL');
    await new Promise((r) => (child.exitCode !== null || child.signalCode ? r(null) : child.once('exit', r)));
  }
}
