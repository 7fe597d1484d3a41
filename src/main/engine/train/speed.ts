// Timing training steps on this machine: the wizard's time estimate and `npm run bench:engine` both use it.
// A step is what the trainer does per batch: forward, MSE, gradients of every trainable weight, Adam update.
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { TrainSpeed, TrainSpeedInput } from '#shared/training';
import { TrainSpeedInputSchema } from '#shared/training';
import { getArchitecture } from '../models';
import { adam } from './adam';

export interface StepTiming {
  batch: number;
  /** Input height and width of the timed batch. */
  height: number;
  width: number;
  warmup: number;
  steps: number;
  /** After each timed step: its wall milliseconds, and the process CPU milliseconds it used (all threads). */
  onStep?: (index: number, ms: number, cpuMs: number) => void;
}

/** Milliseconds of each timed training step of `model` on random data (after `warmup` untimed steps). */
export async function timeTrainSteps(model: tfl.LayersModel, timing: StepTiming): Promise<number[]> {
  const channels = (model.inputs[0]!.shape.at(-1) as number | null) ?? 3;
  const x = tf.randomUniform([timing.batch, timing.height, timing.width, channels]);
  // The target takes the output's shape, so image-to-image models and the classifier time alike.
  const outShape = model.outputs[0]!.shape.map((d, i) => (i === 0 ? timing.batch : (d ?? (i === 1 ? timing.height : timing.width))));
  const y = tf.randomUniform(outShape);
  const optimizer = adam(1e-4);
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  let cpuMs = 0;
  const step = async (): Promise<number> => {
    const cpu = process.cpuUsage();
    const start = performance.now();
    const loss = tf.tidy(() => {
      const { value, grads } = tf.variableGrads(
        () => tf.losses.meanSquaredError(y, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar,
        variables,
      );
      optimizer.applyGradients(Object.entries(grads).map(([name, tensor]) => ({ name, tensor: tensor! })));
      return value;
    });
    await loss.data();
    loss.dispose();
    const ms = performance.now() - start;
    const used = process.cpuUsage(cpu);
    cpuMs = (used.user + used.system) / 1000;
    return ms;
  };
  try {
    for (let i = 0; i < timing.warmup; i++) await step();
    const times: number[] = [];
    for (let i = 0; i < timing.steps; i++) {
      times.push(await step());
      timing.onStep?.(i, times.at(-1)!, cpuMs);
    }
    return times;
  } finally {
    tf.dispose([x, y]);
    optimizer.dispose();
  }
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

// Timing a big batch would keep the wizard (and the engine's other requests, such as the layer diagram) waiting:
// time at most MAX_BATCH patches of at most MAX_PATCH pixels and scale by the pixel count (per-pixel cost is close to constant once a batch holds
// a few thousand pixels per conv, as bench:engine shows).
const MAX_BATCH = 2;
const MAX_PATCH = 64;

/** Measures one training step of an architecture (with its hyper-parameters) on the current backend. */
export async function measureTrainSpeed(input: TrainSpeedInput): Promise<TrainSpeed> {
  const { arch, hyper, batchSize, patch } = TrainSpeedInputSchema.parse(input);
  const architecture = getArchitecture(arch);
  const model = architecture.build(hyper);
  try {
    const fixed = model.inputs[0]!.shape[1];
    // Fixed-size models (the classifier) always train at their own input size.
    const side = typeof fixed === 'number' ? fixed : Math.min(patch, MAX_PATCH);
    const requestedSide = typeof fixed === 'number' ? fixed : patch;
    const batch = Math.min(batchSize, MAX_BATCH);
    const times = await timeTrainSteps(model, { batch, height: side, width: side, warmup: 1, steps: 2 });
    const scale = (batchSize * requestedSide ** 2) / (batch * side ** 2);
    const secondsPerStep = (median(times) / 1000) * scale;
    const macs = architecture.macsPerPixel(hyper) * requestedSide ** 2 * batchSize;
    return {
      secondsPerStep,
      patchesPerSecond: batchSize / secondsPerStep,
      gflops: (3 * 2 * macs) / secondsPerStep / 1e9,
      backend: tf.getBackend(),
      measuredBatch: batch,
      measuredPatch: side,
    };
  } finally {
    model.dispose();
  }
}
