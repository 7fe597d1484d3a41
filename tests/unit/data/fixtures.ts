// Small images made on the fly for the data-pipeline tests (never the shared datasets).
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import sharp from 'sharp';
import { Rng } from '../../../src/main/engine/data/rng';

export async function tempDir(prefix = 'studio-data-'): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Uniform random RGB bytes: every crop is (almost surely) unique, which lets tests locate patches. */
export function randomPixels(width: number, height: number, seed: number): Buffer {
  const rng = new Rng(seed);
  const out = Buffer.alloc(width * height * 3);
  for (let i = 0; i < out.length; i++) out[i] = rng.int(256);
  return out;
}

/** A smooth-ish natural-looking image: gradients plus a few blobs plus mild texture. */
export function smoothPixels(width: number, height: number, seed: number): Buffer {
  const rng = new Rng(seed);
  const blobs = Array.from({ length: 6 }, () => ({
    x: rng.uniform(0, width),
    y: rng.uniform(0, height),
    r: rng.uniform(5, Math.max(6, width / 3)),
    c: [rng.next(), rng.next(), rng.next()],
  }));
  const out = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < 3; c++) {
        let v = 0.3 + 0.3 * (x / width) + 0.2 * (y / height) * (c === 2 ? -1 : 1);
        for (const b of blobs) {
          const d2 = ((x - b.x) ** 2 + (y - b.y) ** 2) / (b.r * b.r);
          v += 0.4 * (b.c[c]! - 0.5) * Math.exp(-d2);
        }
        v += 0.04 * Math.sin(x * 0.9 + c) * Math.cos(y * 0.7);
        out[(y * width + x) * 3 + c] = Math.max(0, Math.min(255, Math.round(v * 255)));
      }
    }
  }
  return out;
}

export async function writeRaw(
  path: string,
  pixels: Buffer,
  width: number,
  height: number,
  format: 'png' | 'jpeg' | 'webp' | 'tiff' | 'gif' = 'png',
  channels: 3 | 4 = 3,
): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  let img = sharp(pixels, { raw: { width, height, channels } });
  img = format === 'jpeg' ? img.jpeg({ quality: 95 }) : format === 'png' ? img.png() : format === 'webp' ? img.webp({ lossless: true }) : format === 'tiff' ? img.tiff() : img.gif();
  await writeFile(path, await img.toBuffer());
}

/** Inverts 8-bit pixels: the degraded side of the "degraded = 1 − clean" fixtures. */
export function invert(pixels: Buffer): Buffer {
  const out = Buffer.alloc(pixels.length);
  for (let i = 0; i < pixels.length; i++) out[i] = 255 - pixels[i]!;
  return out;
}

/** A folder of `count` clean PNGs (sizes varied), for sampler and memory tests. */
export async function cleanFolder(
  dir: string,
  count: number,
  size = 96,
  seed = 1,
  look: { grow?: [number, number]; pixels?: (width: number, height: number, seed: number) => Buffer } = {},
): Promise<string[]> {
  const [growX, growY] = look.grow ?? [8, 12];
  const pixels = look.pixels ?? smoothPixels;
  const names: string[] = [];
  for (let i = 0; i < count; i++) {
    const name = `img${String(i).padStart(3, '0')}.png`;
    const w = size + (i % 3) * growX;
    const h = size + (i % 2) * growY;
    await writeRaw(join(dir, name), pixels(w, h, seed * 1000 + i), w, h);
    names.push(name);
  }
  return names;
}
