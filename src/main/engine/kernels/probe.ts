// Gradient probe: runs every case of gradient-cases.ts on a backend (default wasm) and on cpu, on the
// same random inputs, and reports per case whether it runs and how far it is from cpu.
//
//   npx tsx src/main/engine/kernels/probe.ts                  with the project's kernels (what training uses)
//   npx tsx src/main/engine/kernels/probe.ts --bare           wasm and cpu as the packages ship them (shows
//                                                             what is missing or wrong)
//   npx tsx src/main/engine/kernels/probe.ts --json
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { pathToFileURL } from 'node:url';
import { GRADIENT_CASES, type GradientCase } from './gradient-cases';

/** Deterministic uniform numbers (mulberry32), so both backends see identical inputs. */
export function randomArray(size: number, seed: number, [low, high]: [number, number] = [-1, 1]): Float32Array {
  let a = seed >>> 0;
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    const u = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    out[i] = low + (high - low) * u;
  }
  return out;
}

const sizeOf = (shape: number[]): number => shape.reduce((a, b) => a * b, 1);

/** max |a - b| / max |b|: the error relative to the reference's scale. */
export function relativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  if (actual.length !== expected.length) return Infinity;
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) {
    const d = Math.abs(actual[i]! - expected[i]!);
    if (!(d <= diff)) diff = Number.isNaN(d) ? Infinity : d;
    scale = Math.max(scale, Math.abs(expected[i]!));
  }
  return scale === 0 ? diff : diff / scale;
}

/** The gradients of `c` with respect to all its inputs, for an upstream gradient dy, on `backend`. */
export async function gradientsOn(backend: string, c: GradientCase, seed: number): Promise<Float32Array[]> {
  if (!(await tf.setBackend(backend))) throw new Error(`backend ${backend} did not initialise`);
  return tf.tidy(() => {
    const xs = c.shapes.map((shape, i) => tf.tensor(randomArray(sizeOf(shape), seed + i, c.range), shape));
    const shape = tf.tidy(() => c.f(...xs).shape);
    const dy = tf.tensor(randomArray(sizeOf(shape), seed + 100), shape);
    const grads = tf.grads((...args: tf.Tensor[]) => c.f(...args))(xs, dy);
    return grads.map((g) => g.dataSync() as Float32Array);
  });
}

/**
 * The gradient of a function linear in its one input, for upstream gradient dy, from cpu's forward op
 * alone: grad_i = <f(e_i), dy>. Exact by definition, so it can check gradient kernels cpu gets wrong.
 */
export async function adjointOnCpu(f: (x: tf.Tensor) => tf.Tensor, inShape: number[], dy: Float32Array): Promise<Float32Array> {
  await tf.setBackend('cpu');
  const grad = new Float32Array(sizeOf(inShape));
  const basis = new Float32Array(grad.length);
  for (let i = 0; i < grad.length; i++) {
    basis.fill(0);
    basis[i] = 1;
    const y = tf.tidy(() => f(tf.tensor(basis, inShape)).dataSync());
    let dot = 0;
    for (let j = 0; j < y.length; j++) dot += y[j]! * dy[j]!;
    grad[i] = dot;
  }
  return grad;
}

async function adjointReference(c: GradientCase, seed: number): Promise<Float32Array[]> {
  await tf.setBackend('cpu');
  const inShape = c.shapes[0]!;
  const outShape = tf.tidy(() => c.f(tf.zeros(inShape)).shape);
  return [await adjointOnCpu((x) => c.f(x), inShape, randomArray(sizeOf(outShape), seed + 100))];
}

/** The cpu reference for a case (see GradientCase.reference). */
export function referenceGradients(c: GradientCase, seed: number): Promise<Float32Array[]> {
  return c.reference === 'adjoint' ? adjointReference(c, seed) : gradientsOn('cpu', c, seed);
}

export interface ProbeResult {
  name: string;
  /** 'ok': runs and matches cpu within tolerance; 'mismatch': runs, differs; 'error': throws;
   * 'no-reference': cpu itself fails, nothing to compare with. */
  status: 'ok' | 'mismatch' | 'error' | 'no-reference';
  /** Worst relative error over the case's gradients (null on error). */
  relError: number | null;
  message?: string;
}

export async function probeGradients(backend = 'wasm', tolerance = 1e-4, seed = 1): Promise<ProbeResult[]> {
  const results: ProbeResult[] = [];
  for (const c of GRADIENT_CASES) {
    let expected: Float32Array[];
    try {
      expected = await referenceGradients(c, seed);
    } catch (error) {
      results.push({ name: c.name, status: 'no-reference', relError: null, message: (error as Error).message.split('\n')[0] });
      continue;
    }
    try {
      const actual = await gradientsOn(backend, c, seed);
      const relError = Math.max(...actual.map((a, i) => relativeError(a, expected[i]!)));
      results.push({ name: c.name, status: relError < tolerance ? 'ok' : 'mismatch', relError });
    } catch (error) {
      results.push({ name: c.name, status: 'error', relError: null, message: (error as Error).message.split('\n')[0] });
    }
  }
  return results;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (!args.includes('--bare')) {
    const { registerProjectKernels } = await import('./index');
    registerProjectKernels();
  }
  const results = await probeGradients();
  if (args.includes('--json')) {
    console.log(JSON.stringify(results));
    return;
  }
  for (const r of results) {
    const detail = r.relError === null ? r.message : `rel. error ${r.relError!.toExponential(1)}`;
    console.log(`${r.status.padEnd(8)} ${r.name.padEnd(40)} ${detail}`);
  }
  const bad = results.filter((r) => r.status !== 'ok').length;
  console.log(`\n${results.length - bad}/${results.length} gradients match cpu on wasm${args.includes('--bare') ? ' (bare package)' : ''}.`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main();
}
