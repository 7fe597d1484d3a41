// Shared by the engine tests: running one kernel on a backend with given data, fresh random data, and
// relative-error comparison.
import * as tf from '@tensorflow/tfjs-core';
import { randomArray, relativeError } from '../../../src/main/engine/kernels/probe';

export { relativeError };

/** A seed for this test run: inputs are fresh every run, and a failure names the seed to replay it. */
export const RUN_SEED = Number(process.env.STUDIO_TEST_SEED ?? Math.floor(Math.random() * 2 ** 31));

let counter = 0;
/** Fresh uniform values in [low, high] (deterministic per RUN_SEED and call order). */
export function random(shape: number[], range: [number, number] = [-1, 1]): { shape: number[]; values: Float32Array } {
  const size = shape.reduce((a, b) => a * b, 1);
  return { shape, values: randomArray(size, RUN_SEED + 7919 * ++counter, range) };
}

export type Inputs = Record<string, { shape: number[]; values: Float32Array }>;

/** Runs kernel `name` on `backend` with the given inputs and attrs; returns the output values and shape. */
export async function runKernelOn(
  backend: string,
  name: string,
  inputs: Inputs,
  attrs: object,
): Promise<{ values: Float32Array; shape: number[] }> {
  await tf.setBackend(backend);
  const tensors = Object.fromEntries(Object.entries(inputs).map(([k, v]) => [k, tf.tensor(v.values, v.shape)]));
  try {
    const out = tf.engine().runKernel(name, tensors, attrs as tf.NamedAttrMap) as tf.Tensor;
    const values = (await out.data()) as Float32Array;
    const shape = out.shape;
    out.dispose();
    return { values, shape };
  } finally {
    Object.values(tensors).forEach((t) => t.dispose());
  }
}

export const TOLERANCE = 1e-4;

export function describeFailure(what: string, err: number): string {
  return `${what}: relative error ${err.toExponential(2)} >= ${TOLERANCE} (replay with STUDIO_TEST_SEED=${RUN_SEED})`;
}
