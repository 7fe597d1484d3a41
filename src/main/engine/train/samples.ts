// PNG samples of validation crops (degraded / restored / clean) for the UI, written with sharp.
import sharp from 'sharp';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { quantize8 } from '../metrics/image-metrics';

export interface SamplePaths {
  degraded: string;
  restored: string;
  clean: string;
}

/** 8-bit RGB(A) bytes of one HWC float image in [0, 1]. */
export function toBytes(data: Float32Array): Uint8Array {
  const out = new Uint8Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = quantize8(data[i]!);
  return out;
}

export async function writePng(path: string, data: Float32Array, width: number, height: number, channels: number): Promise<void> {
  if (channels !== 1 && channels !== 3 && channels !== 4) throw new RangeError(`Cannot write ${channels}-channel PNG.`);
  await sharp(toBytes(data), { raw: { width, height, channels } }).png().toFile(path);
}

export interface SampleImage {
  degraded: Float32Array;
  restored: Float32Array;
  clean: Float32Array;
  height: number;
  width: number;
  channels: number;
}

/** Writes sample-<i>-{degraded,restored,clean}.png into `dir` (created). */
export async function writeSamples(dir: string, samples: SampleImage[]): Promise<SamplePaths[]> {
  await mkdir(dir, { recursive: true });
  const out: SamplePaths[] = [];
  for (const [i, s] of samples.entries()) {
    const paths = {
      degraded: join(dir, `sample-${i}-degraded.png`),
      restored: join(dir, `sample-${i}-restored.png`),
      clean: join(dir, `sample-${i}-clean.png`),
    };
    await writePng(paths.degraded, s.degraded, s.width, s.height, s.channels);
    await writePng(paths.restored, s.restored, s.width, s.height, s.channels);
    await writePng(paths.clean, s.clean, s.width, s.height, s.channels);
    out.push(paths);
  }
  return out;
}
