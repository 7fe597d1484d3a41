// Tiny datasets and models made on the fly for the engine-method and CLI tests.
import * as tfl from '@tensorflow/tfjs-layers';
import * as tf from '@tensorflow/tfjs-core';
import { join } from 'node:path';
import { tempDir as sharedTempDir } from '../../helpers/fixtures';
import { cleanFolder as dataCleanFolder, writeRaw } from '../data/fixtures';
import { mulberry32 } from '../../helpers/random';

/** tests/helpers/fixtures.ts's tempDir, named 'studio-methods-…' unless told otherwise. */
export const tempDir = (prefix = 'studio-methods-'): ReturnType<typeof sharedTempDir> => sharedTempDir(prefix);

/** Smooth 8-bit RGB (gradients and soft blobs), values within [lo, hi]. */
export function smoothImage(width: number, height: number, seed: number, lo = 0, hi = 255): Buffer {
  const rand = mulberry32(seed);
  const blobs = Array.from({ length: 4 }, () => ({ x: rand() * width, y: rand() * height, r: 4 + rand() * width * 0.4, c: [rand(), rand(), rand()] }));
  const out = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < 3; c++) {
        let v = 0.3 + 0.3 * (x / width) + 0.2 * (y / height) * (c === 1 ? -1 : 1);
        for (const b of blobs) v += 0.35 * (b.c[c]! - 0.5) * Math.exp(-((x - b.x) ** 2 + (y - b.y) ** 2) / (b.r * b.r));
        const byte = Math.round(Math.min(1, Math.max(0, v)) * 255);
        out[(y * width + x) * 3 + c] = Math.min(hi, Math.max(lo, byte));
      }
    }
  }
  return out;
}

export const writePng = (path: string, pixels: Buffer, width: number, height: number): Promise<void> => writeRaw(path, pixels, width, height);

/** A folder of `count` clean PNGs of about `size` px (data/fixtures.ts's, with smoothImage). Returns the file names. */
export const cleanFolder = (dir: string, count: number, size = 40, seed = 1): Promise<string[]> =>
  dataCleanFolder(dir, count, size, seed, { grow: [4, 6], pixels: (w, h, s) => smoothImage(w, h, s) });

/**
 * A paired folder whose degraded images are the clean ones plus `offset` levels on every value. Clean values
 * stay within [20, 235] so nothing clips: the degraded input's MSE is exactly offset².
 */
export async function offsetPairs(dir: string, count: number, offset: number, sizes: [number, number][] = [[36, 28]]): Promise<{ name: string; clean: Buffer; degraded: Buffer; width: number; height: number }[]> {
  const out = [];
  for (let i = 0; i < count; i++) {
    const [width, height] = sizes[i % sizes.length]!;
    const name = `p${i}.png`;
    const clean = smoothImage(width, height, 77 + i, 20, 235);
    const degraded = Buffer.from(clean.map((v) => v + offset));
    await writePng(join(dir, 'clean', name), clean, width, height);
    await writePng(join(dir, 'degraded', name), degraded, width, height);
    out.push({ name, clean, degraded, width, height });
  }
  return out;
}

/** An image-to-image model that returns its input exactly (a 1x1 conv with an identity kernel). */
export function identityModel(): tfl.LayersModel {
  const input = tfl.input({ shape: [null, null, 3] });
  const conv = tfl.layers.conv2d({ filters: 3, kernelSize: 1, useBias: true, name: 'identity_conv' });
  const output = conv.apply(input) as tfl.SymbolicTensor;
  const model = tfl.model({ inputs: input, outputs: output, name: 'identity' });
  tf.tidy(() => conv.setWeights([tf.reshape(tf.eye(3), [1, 1, 3, 3]), tf.zeros([3])]));
  return model;
}

/** PSNR of two 8-bit buffers, written out here independently of the studio's metrics. */
export function psnr8(a: Buffer, b: Buffer): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += (a[i]! - b[i]!) ** 2;
  const mse = sum / a.length;
  return mse === 0 ? 100 : Math.min(100, 10 * Math.log10((255 * 255) / mse));
}

/** Parses JSON lines of a CLI's stdout. */
export function jsonLines(stdout: string): Record<string, unknown>[] {
  return stdout
    .split('\n')
    .filter((l) => l.trim().length > 0)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}
