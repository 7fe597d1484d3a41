// A fast gradient for Tile (registered for every backend: gradients are not per backend).
//
// tfjs-core's own Tile gradient adds one slice of dy per repetition, i.e. reps[0]*reps[1]*... slice + add
// ops. tfjs-layers' LayerNormalization tiles its gamma and beta [c] to the whole input [n, h, w, c], so
// in NAFNet every layer norm's gradient ran n*h*w slices (65,536 at a batch of 16 64x64 patches): on wasm,
// where each Slice copies its input into JavaScript, one nafnet-tiny training step took minutes.
//
// Tiling repeats the whole tensor along each axis, so dy viewed as [r0, x0, r1, x1, ...] (repetition
// index outside) holds every copy of x, and the gradient is one sum over the repetition axes.
import * as tf from '@tensorflow/tfjs-core';
import { Tile } from '@tensorflow/tfjs-core';
import type { GradConfig, NamedAttrMap } from '@tensorflow/tfjs-core';

export function tileGradient(dy: tf.Tensor, xShape: number[], reps: number[]): tf.Tensor {
  const split: number[] = [];
  const repAxes: number[] = [];
  xShape.forEach((size, i) => {
    if (reps[i]! > 1) repAxes.push(split.length);
    split.push(reps[i]!, size);
  });
  if (repAxes.length === 0) return tf.clone(dy);
  return tf.reshape(tf.sum(tf.reshape(dy, split), repAxes), xShape);
}

export const tileGradConfig: GradConfig = {
  kernelName: Tile,
  inputsToSave: ['x'],
  gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs: NamedAttrMap) => {
    const [x] = saved;
    const reps = attrs.reps as number[];
    return { x: () => tileGradient(dy as tf.Tensor, x!.shape, reps) };
  },
};
