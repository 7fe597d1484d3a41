// Helpers for the restore tests: temp folders, generated photos, tiny tfjs models saved as model folders,
// file hashes, and running the CLI as a child process.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import sharp from 'sharp';
import { tempDir as sharedTempDir } from '../../helpers/fixtures';
import { mulberry32 } from '../../helpers/random';
import { TEST_BACKEND } from '../../helpers/native';

/** tests/helpers/fixtures.ts's tempDir, named 'studio-restore-…' unless told otherwise. */
export const tempDir = (prefix = 'studio-restore-'): ReturnType<typeof sharedTempDir> => sharedTempDir(prefix);
export { mulberry32 };

/** Smooth gradients plus texture, `channels` interleaved samples of 8 or 16 bits. */
export function photoPixels(width: number, height: number, channels: number, seed: number, sixteenBit = false): Uint8Array | Uint16Array {
  const rand = mulberry32(seed);
  const max = sixteenBit ? 65535 : 255;
  const out = sixteenBit ? new Uint16Array(width * height * channels) : new Uint8Array(width * height * channels);
  const phase = [rand() * 6, rand() * 6, rand() * 6, rand() * 6];
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < channels; c++) {
        const v = 0.5 + 0.3 * Math.sin(x * 0.07 + y * 0.05 + phase[c]!) + 0.15 * (rand() - 0.5);
        out[(y * width + x) * channels + c] = Math.max(0, Math.min(max, Math.round(v * max)));
      }
    }
  }
  return out;
}

/** A JPEG/PNG/... photo file from generated pixels. */
export async function writePhoto(path: string, width: number, height: number, options: { seed?: number; format?: 'jpeg' | 'png' | 'webp' | 'tiff'; channels?: number } = {}): Promise<void> {
  const channels = options.channels ?? 3;
  const pixels = photoPixels(width, height, channels, options.seed ?? 1);
  let image = sharp(pixels, { raw: { width, height, channels: channels as 1 | 2 | 3 | 4 } });
  if (channels <= 2) image = image.toColourspace('b-w');
  const format = options.format ?? 'png';
  await mkdir(join(path, '..'), { recursive: true });
  await writeFile(path, await image.toFormat(format, format === 'jpeg' ? { quality: 95 } : {}).toBuffer());
}

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** sha256 and mtime of every file under a folder, by relative path. */
export async function snapshot(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const walk = async (d: string): Promise<void> => {
    for (const entry of await readdir(d, { withFileTypes: true })) {
      const path = join(d, entry.name);
      if (entry.isDirectory()) await walk(path);
      else out.set(relative(dir, path), `${sha256(await readFile(path))}@${(await stat(path)).mtimeMs}`);
    }
  };
  await walk(dir);
  return out;
}

/** Saves a layers model as a tfjs model folder (model.json + weights.bin) with a handler of our own. */
export async function saveModelFolder(model: tfl.LayersModel, dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const weights = artifacts.weightData === undefined ? new ArrayBuffer(0) : tf.io.CompositeArrayBuffer.join(artifacts.weightData);
      await writeFile(join(dir, 'weights.bin'), new Uint8Array(weights));
      await writeFile(
        join(dir, 'model.json'),
        JSON.stringify({
          format: 'layers-model',
          generatedBy: 'restore tests',
          convertedBy: null,
          modelTopology: artifacts.modelTopology,
          weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs ?? [] }],
        }),
      );
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
}

/** Identity: one 1x1 convolution with an identity kernel and zero bias. */
export function identityModel(): tfl.LayersModel {
  const input = tfl.input({ shape: [null, null, 3] });
  const conv = tfl.layers.conv2d({ filters: 3, kernelSize: 1, useBias: true, name: 'identity' });
  const output = conv.apply(input) as tfl.SymbolicTensor;
  const model = tfl.model({ inputs: input, outputs: output });
  const kernel = tf.tensor4d([1, 0, 0, 0, 1, 0, 0, 0, 1], [1, 1, 3, 3]);
  const bias = tf.zeros([3]);
  conv.setWeights([kernel, bias]);
  tf.dispose([kernel, bias]);
  return model;
}

/** A small residual CNN (two 3x3 convs, receptive radius 2) with fixed random weights: x + 0.1 * f(x). */
export function residualModel(seed = 7, filters = 8): tfl.LayersModel {
  const input = tfl.input({ shape: [null, null, 3] });
  const c1 = tfl.layers.conv2d({ filters, kernelSize: 3, padding: 'same', activation: 'relu', name: 'c1' });
  const c2 = tfl.layers.conv2d({ filters: 3, kernelSize: 3, padding: 'same', name: 'c2' });
  const h = c2.apply(c1.apply(input)) as tfl.SymbolicTensor;
  const output = tfl.layers.add().apply([input, h]) as tfl.SymbolicTensor;
  const model = tfl.model({ inputs: input, outputs: output });
  const rand = mulberry32(seed);
  model.setWeights(
    model.getWeights().map((w) => {
      const values = Float32Array.from({ length: w.size }, () => (rand() - 0.5) * 0.2);
      return tf.tensor(values, w.shape);
    }),
  );
  return model;
}

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

const CLI = ['--import', 'tsx', 'src/main/cli/index.ts'];

function cliEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const base = { ...process.env };
  delete base.STUDIO_BACKEND;
  return { ...base, STUDIO_BACKEND: TEST_BACKEND, ...env };
}

export function studio(args: string[], env: NodeJS.ProcessEnv = {}): CliResult {
  const result = spawnSync(process.execPath, [...CLI, ...args], { encoding: 'utf8', env: cliEnv(env) });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

export function studioChild(args: string[], env: NodeJS.ProcessEnv = {}): ChildProcess {
  return spawn(process.execPath, [...CLI, ...args], { env: cliEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
}

/** The last line of stdout, parsed. */
export function lastJson<T>(stdout: string): T {
  const lines = stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]!) as T;
}

/**
 * A stand-in damage detector with a rule we know: a pixel is damage where its mean brightness is above 0.9
 * (a 1x1 conv with large weights and a negative bias: sigmoid(20 (r + g + b) - 54)). Its probability comes
 * out in three channels, as the studio's detectors (damage-unet) give it.
 */
export function brightDetectorModel(): tfl.LayersModel {
  const input = tfl.input({ shape: [null, null, 3] });
  const conv = tfl.layers.conv2d({ filters: 3, kernelSize: 1, useBias: true, activation: 'sigmoid', name: 'bright' });
  const model = tfl.model({ inputs: input, outputs: conv.apply(input) as tfl.SymbolicTensor });
  const kernel = tf.fill([1, 1, 3, 3], 20);
  const bias = tf.fill([3], -54);
  conv.setWeights([kernel, bias]);
  tf.dispose([kernel, bias]);
  return model;
}
