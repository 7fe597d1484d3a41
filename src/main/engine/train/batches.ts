// Patch batches as training sees them: checked against the recipe, and turned into tensors (a restorer's
// degraded -> clean pairs, or the classifier's clean-then-degraded patches with 0/1 labels).
import * as tf from '@tensorflow/tfjs-core';
import { StudioError } from '#shared/rpc/errors';
import type { TrainRecipe } from '#shared/model-card';
import type { PatchBatch } from '../data/types';

/** Channels of a batch's model input: 3, or 4 for a filler (photo + damage mask). */
export function inputChannelsOf(batch: PatchBatch): number {
  return batch.inputChannels ?? batch.channels;
}

export function checkBatch(batch: PatchBatch, recipe: TrainRecipe, what: string, fixedSize: boolean): void {
  const { batch: n, height: h, width: w, channels: c } = batch;
  if (c !== 3) throw new StudioError('BAD_INPUT', `${what} has ${String(c)} channels; training expects RGB (3).`);
  const cIn = inputChannelsOf(batch);
  if (batch.degraded.length !== n * h * w * cIn || batch.clean.length !== n * h * w * c) {
    throw new StudioError('BAD_INPUT', `${what}: pixel arrays do not match ${n}x${h}x${w}x${cIn} in, ${n}x${h}x${w}x${c} out.`);
  }
  if (fixedSize && (h !== recipe.patchSize || w !== recipe.patchSize)) {
    throw new StudioError('BAD_INPUT', `${what} is ${h}x${w}; the recipe's patch size is ${recipe.patchSize}.`);
  }
}

export function checkTrainingBatch(batch: PatchBatch, recipe: TrainRecipe, what: string): void {
  checkBatch(batch, recipe, what, true);
  if (batch.batch !== recipe.batchSize) {
    throw new StudioError('BAD_INPUT', `${what} has ${batch.batch} patches; the recipe's batch size is ${recipe.batchSize}.`);
  }
}

export function batchTensors(batch: PatchBatch): [tf.Tensor4D, tf.Tensor4D] {
  const { batch: n, height: h, width: w, channels: c } = batch;
  return [tf.tensor4d(batch.degraded, [n, h, w, inputChannelsOf(batch)]), tf.tensor4d(batch.clean, [n, h, w, c])];
}

/** The first three channels (the photo) of HWC pixels with `channels` channels. */
export function photoChannels(pixels: Float32Array, channels: number): Float32Array {
  if (channels === 3) return pixels;
  const out = new Float32Array((pixels.length / channels) * 3);
  for (let p = 0, i = 0; i < out.length; p += channels, i += 3) {
    out[i] = pixels[p]!;
    out[i + 1] = pixels[p + 1]!;
    out[i + 2] = pixels[p + 2]!;
  }
  return out;
}

/** Classifier inputs: clean patches (label 0) then degraded ones (label 1). */
export function classifierBatch(batch: PatchBatch): [tf.Tensor4D, tf.Tensor2D] {
  const [degraded, clean] = batchTensors(batch);
  const x = tf.concat([clean, degraded], 0);
  const labels = tf.concat([tf.zeros([batch.batch, 1]), tf.ones([batch.batch, 1])], 0) as tf.Tensor2D;
  return [x, labels];
}

export function mean(values: number[]): number {
  return values.length ? values.reduce((a, b) => a + b, 0) / values.length : NaN;
}
