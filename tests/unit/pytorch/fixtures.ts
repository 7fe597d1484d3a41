// The committed PyTorch fixtures (tests/fixtures/pytorch, made by make-fixtures.py) and their reference
// outputs, as NHWC tensors.
import * as tf from '@tensorflow/tfjs-core';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

export const FIXTURES = join(import.meta.dirname, '..', '..', 'fixtures', 'pytorch');

export interface FixtureModel {
  file: string;
  architecture: string;
  scale: number;
  output: string;
  /** NCHW. */
  shape: number[];
}

interface Manifest {
  input: { file: string; shape: number[] };
  models: FixtureModel[];
}

export const manifest = JSON.parse(await readFile(join(FIXTURES, 'manifest.json'), 'utf8')) as Manifest;

async function f32(name: string): Promise<Float32Array> {
  const buf = await readFile(join(FIXTURES, name));
  return new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
}

/** Raw NCHW float32 → an NHWC tensor. */
async function nhwc(name: string, shape: number[]): Promise<tf.Tensor4D> {
  const data = await f32(name);
  return tf.tidy(() => tf.transpose(tf.tensor4d(data, shape as [number, number, number, number]), [0, 2, 3, 1]));
}

export const fixtureInput = (): Promise<tf.Tensor4D> => nhwc(manifest.input.file, manifest.input.shape);
export const fixtureOutput = (entry: FixtureModel): Promise<tf.Tensor4D> => nhwc(entry.output, entry.shape);
