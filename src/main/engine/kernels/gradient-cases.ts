// Every differentiable op the model zoo (src/main/engine/models) and the training losses use, as small
// gradient cases. probe.ts runs them on wasm against cpu to find missing or wrong kernels, and
// tests/unit/engine checks them on every run. Shapes are odd on purpose (padding and stride edge cases).
import * as tf from '@tensorflow/tfjs-core';
// In Node, tfjs-core's gradient functions are registered by tfjs-layers' bundle (core's node bundle leaves
// them out), so importing it is what makes tf.grads work here.
import '@tensorflow/tfjs-layers';

export interface GradientCase {
  name: string;
  /** Shapes of the inputs the gradient is taken with respect to. */
  shapes: number[][];
  /** Inputs drawn from [low, high] (default [-1, 1]). */
  range?: [number, number];
  /**
   * How the cpu reference is computed: 'gradient' (default) runs cpu's own gradient; 'adjoint' is for
   * functions linear in a single input, whose gradient is the adjoint <f(e_i), dy> of cpu's forward op
   * (used where cpu's gradient kernel itself is wrong).
   */
  reference?: 'gradient' | 'adjoint';
  f: (...xs: tf.Tensor[]) => tf.Tensor;
}

type T4 = tf.Tensor4D;
const t4 = (x: tf.Tensor): T4 => x as T4;

/** Training-mode batch norm over all but the channel axis, as tfjs-layers computes it. */
function batchNormTrain(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor): tf.Tensor {
  const { mean, variance } = tf.moments(x, [0, 1, 2]);
  return tf.batchNorm(x, mean, variance, beta as tf.Tensor1D, gamma as tf.Tensor1D, 1e-3);
}

function layerNorm(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor): tf.Tensor {
  const { mean, variance } = tf.moments(x, [3], true);
  return tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, 1e-6))), gamma), beta);
}

/** PixelShuffle / PixelUnshuffle of models/layers.ts: reshape + transpose + reshape. */
function pixelShuffle(x: tf.Tensor, r: number): tf.Tensor {
  const [n, h, w, c] = x.shape as number[];
  return tf.reshape(tf.transpose(tf.reshape(x, [n! * h!, w!, r, (r * c!) / (r * r)]), [0, 2, 1, 3]), [n!, h! * r, w! * r, c! / (r * r)]);
}
function pixelUnshuffle(x: tf.Tensor, r: number): tf.Tensor {
  const [n, h, w, c] = x.shape as number[];
  return tf.reshape(tf.transpose(tf.reshape(x, [n! * (h! / r), r, w! / r, r * c!]), [0, 2, 1, 3]), [n!, h! / r, w! / r, r * r * c!]);
}

export const GRADIENT_CASES: readonly GradientCase[] = [
  // Convolutions (Conv2D layers run fused conv2d with bias; the activation is a separate op or fused).
  { name: 'conv2d 3x3 same', shapes: [[2, 9, 10, 4], [3, 3, 4, 5]], f: (x, w) => tf.conv2d(t4(x), t4(w), 1, 'same') },
  { name: 'conv2d 5x5 same', shapes: [[2, 11, 8, 3], [5, 5, 3, 4]], f: (x, w) => tf.conv2d(t4(x), t4(w), 1, 'same') },
  { name: 'conv2d 1x1', shapes: [[2, 7, 6, 6], [1, 1, 6, 3]], f: (x, w) => tf.conv2d(t4(x), t4(w), 1, 'valid') },
  { name: 'conv2d 2x2 stride 2 valid', shapes: [[2, 10, 8, 4], [2, 2, 4, 6]], f: (x, w) => tf.conv2d(t4(x), t4(w), 2, 'valid') },
  { name: 'conv2d 3x3 stride 2 same (odd size)', shapes: [[2, 9, 11, 3], [3, 3, 3, 4]], f: (x, w) => tf.conv2d(t4(x), t4(w), 2, 'same') },
  {
    name: 'fused conv2d + bias + relu',
    shapes: [[2, 8, 9, 4], [3, 3, 4, 5], [5]],
    f: (x, w, b) => tf.fused.conv2d({ x: t4(x), filter: t4(w), strides: 1, pad: 'same', bias: b, activation: 'relu' }),
  },
  { name: 'depthwise 3x3 same', shapes: [[2, 9, 10, 4], [3, 3, 4, 1]], f: (x, w) => tf.depthwiseConv2d(t4(x), t4(w), 1, 'same') },
  { name: 'depthwise 5x5 same, multiplier 2', shapes: [[2, 8, 7, 3], [5, 5, 3, 2]], f: (x, w) => tf.depthwiseConv2d(t4(x), t4(w), 1, 'same') },
  { name: 'depthwise 3x3 stride 2 valid', shapes: [[2, 11, 9, 4], [3, 3, 4, 1]], f: (x, w) => tf.depthwiseConv2d(t4(x), t4(w), 2, 'valid') },
  {
    name: 'conv2dTranspose 2x2 stride 2 same',
    shapes: [[2, 5, 4, 6], [2, 2, 3, 6]],
    f: (x, w) => tf.conv2dTranspose(t4(x), t4(w), [2, 10, 8, 3], 2, 'same'),
  },
  {
    name: 'conv2dTranspose 3x3 stride 2 same',
    shapes: [[2, 4, 5, 4], [3, 3, 3, 4]],
    f: (x, w) => tf.conv2dTranspose(t4(x), t4(w), [2, 8, 10, 3], 2, 'same'),
  },
  {
    name: 'conv2dTranspose 3x3 stride 1 same',
    shapes: [[2, 6, 7, 4], [3, 3, 5, 4]],
    f: (x, w) => tf.conv2dTranspose(t4(x), t4(w), [2, 6, 7, 5], 1, 'same'),
  },
  // Pooling and resampling.
  { name: 'maxPool 2x2 stride 2', shapes: [[2, 10, 8, 3]], f: (x) => tf.maxPool(t4(x), 2, 2, 'valid') },
  { name: 'maxPool 3x3 stride 1 same', shapes: [[2, 7, 9, 3]], f: (x) => tf.maxPool(t4(x), 3, 1, 'same') },
  { name: 'maxPool 2x2 stride 2, all negative', shapes: [[2, 6, 4, 3]], range: [-2, -1], f: (x) => tf.maxPool(t4(x), 2, 2, 'valid') },
  {
    name: 'maxPool 2x2 stride 2, ties (relu zeros)',
    shapes: [[2, 6, 8, 3]],
    f: (x) => tf.maxPool(t4(tf.relu(tf.sub(x, 0.6))), 2, 2, 'valid'),
  },
  { name: 'maxPool 3x3 stride 2 same, odd size', shapes: [[2, 9, 7, 2]], f: (x) => tf.maxPool(t4(x), 3, 2, 'same') },
  { name: 'avgPool 2x2 stride 2', shapes: [[2, 10, 8, 3]], f: (x) => tf.avgPool(t4(x), 2, 2, 'valid') },
  { name: 'avgPool 3x3 stride 1 same', shapes: [[2, 7, 9, 3]], f: (x) => tf.avgPool(t4(x), 3, 1, 'same') },
  { name: 'upsampling nearest x2', shapes: [[2, 5, 4, 3]], f: (x) => tf.image.resizeNearestNeighbor(t4(x), [10, 8]) },
  { name: 'upsampling nearest x3 by x2', shapes: [[3, 4, 5, 2]], f: (x) => tf.image.resizeNearestNeighbor(t4(x), [12, 10]) },
  {
    name: 'resize nearest, fractional',
    shapes: [[2, 5, 4, 3]],
    reference: 'adjoint',
    f: (x) => tf.image.resizeNearestNeighbor(t4(x), [7, 9]),
  },
  {
    name: 'resize nearest, align corners + downscale',
    shapes: [[2, 7, 6, 2]],
    reference: 'adjoint',
    f: (x) => tf.image.resizeNearestNeighbor(t4(x), [4, 5], true),
  },
  {
    name: 'resize nearest, half-pixel centers',
    shapes: [[2, 5, 4, 2]],
    reference: 'adjoint',
    f: (x) => tf.image.resizeNearestNeighbor(t4(x), [8, 9], false, true),
  },
  { name: 'upsampling bilinear x2', shapes: [[2, 5, 5, 3]], f: (x) => tf.image.resizeBilinear(t4(x), [10, 10]) },
  // cpu's ResizeBilinearGrad (tfjs 4.22) returns a transposed shape when height != width, so non-square
  // bilinear cases take the adjoint of cpu's forward resize as the reference.
  {
    name: 'upsampling bilinear x2, non-square',
    shapes: [[2, 5, 4, 3]],
    reference: 'adjoint',
    f: (x) => tf.image.resizeBilinear(t4(x), [10, 8]),
  },
  {
    name: 'resize bilinear half-pixel centers, non-square',
    shapes: [[2, 5, 4, 3]],
    reference: 'adjoint',
    f: (x) => tf.image.resizeBilinear(t4(x), [8, 9], false, true),
  },
  {
    name: 'resize bilinear align corners, non-square',
    shapes: [[2, 5, 4, 3]],
    reference: 'adjoint',
    f: (x) => tf.image.resizeBilinear(t4(x), [9, 7], true),
  },
  { name: 'pixel shuffle (depth-to-space)', shapes: [[2, 3, 4, 8]], f: (x) => pixelShuffle(x, 2) },
  { name: 'pixel unshuffle (space-to-depth)', shapes: [[2, 6, 4, 2]], f: (x) => pixelUnshuffle(x, 2) },
  // Normalisation.
  { name: 'batch norm (training)', shapes: [[4, 5, 6, 3], [3], [3]], f: batchNormTrain },
  { name: 'layer norm (channels)', shapes: [[2, 5, 6, 4], [4], [4]], f: layerNorm },
  // Merges and plumbing.
  { name: 'concat channels', shapes: [[2, 5, 6, 3], [2, 5, 6, 2]], f: (a, b) => tf.concat([a, b], 3) },
  { name: 'add', shapes: [[2, 5, 6, 3], [2, 5, 6, 3]], f: (a, b) => tf.add(a, b) },
  { name: 'subtract', shapes: [[2, 5, 6, 3], [2, 5, 6, 3]], f: (a, b) => tf.sub(a, b) },
  { name: 'average', shapes: [[2, 5, 6, 3], [2, 5, 6, 3]], f: (a, b) => tf.mul(tf.add(a, b), 0.5) },
  { name: 'multiply with broadcast', shapes: [[2, 5, 6, 4], [2, 1, 1, 4]], f: (a, b) => tf.mul(a, b) },
  { name: 'split channels and gate', shapes: [[2, 5, 6, 6]], f: (x) => tf.mul(...(tf.split(x, 2, 3) as [tf.Tensor, tf.Tensor])) },
  {
    name: 'mirror pad symmetric',
    shapes: [[2, 5, 6, 3]],
    f: (x) => tf.mirrorPad(t4(x), [[0, 0], [0, 3], [0, 2], [0, 0]], 'symmetric'),
  },
  { name: 'pad + slice', shapes: [[2, 5, 6, 3]], f: (x) => tf.slice(tf.pad(x, [[0, 0], [1, 2], [2, 1], [0, 0]]), [0, 1, 0, 0], [2, 6, 7, 3]) },
  { name: 'tile edge rows', shapes: [[2, 5, 6, 3]], f: (x) => tf.concat([x, tf.tile(tf.slice(x, [0, 4, 0, 0], [-1, 1, -1, -1]), [1, 3, 1, 1])], 1) },
  // The project replaces tfjs-core's Tile gradient for every backend (kernels/tile-grad.ts), so cpu's
  // gradient is no independent reference for it: the adjoint of the forward tile is.
  {
    name: 'tile as broadcast (layer norm gamma)',
    shapes: [[1, 1, 1, 4]],
    reference: 'adjoint',
    f: (g) => tf.tile(g, [2, 3, 5, 1]),
  },
  { name: 'tile, general', shapes: [[2, 3, 2]], reference: 'adjoint', f: (x) => tf.tile(x, [2, 1, 3]) },
  {
    name: 'channel attention (mean + matMul)',
    shapes: [[2, 5, 6, 4], [4, 4]],
    f: (x, w) => tf.mul(x, tf.reshape(tf.matMul(tf.mean(x, [1, 2]) as tf.Tensor2D, w as tf.Tensor2D), [2, 1, 1, 4])),
  },
  {
    name: 'dense (flatten + matMul + bias)',
    shapes: [[3, 4, 5, 2], [40, 6], [6]],
    f: (x, w, b) => tf.add(tf.matMul(tf.reshape(x, [3, 40]), w as tf.Tensor2D), b),
  },
  // Activations.
  { name: 'relu', shapes: [[2, 5, 6, 3]], f: (x) => tf.relu(x) },
  { name: 'relu6', shapes: [[2, 5, 6, 3]], range: [-8, 8], f: (x) => tf.relu6(x) },
  { name: 'leaky relu', shapes: [[2, 5, 6, 3]], f: (x) => tf.leakyRelu(x, 0.2) },
  { name: 'prelu', shapes: [[2, 5, 6, 3], [3]], f: (x, a) => tf.prelu(x, a) },
  { name: 'elu', shapes: [[2, 5, 6, 3]], f: (x) => tf.elu(x) },
  { name: 'selu', shapes: [[2, 5, 6, 3]], f: (x) => tf.selu(x) },
  { name: 'sigmoid', shapes: [[2, 5, 6, 3]], range: [-4, 4], f: (x) => tf.sigmoid(x) },
  { name: 'tanh', shapes: [[2, 5, 6, 3]], range: [-3, 3], f: (x) => tf.tanh(x) },
  { name: 'swish', shapes: [[2, 5, 6, 3]], range: [-4, 4], f: (x) => tf.mul(x, tf.sigmoid(x)) },
  // Losses.
  { name: 'mse', shapes: [[2, 5, 6, 3], [2, 5, 6, 3]], f: (p, y) => tf.losses.meanSquaredError(y!, p!) },
  { name: 'l1', shapes: [[2, 5, 6, 3], [2, 5, 6, 3]], f: (p, y) => tf.mean(tf.abs(tf.sub(p!, y!))) },
  {
    name: 'charbonnier',
    shapes: [[2, 5, 6, 3], [2, 5, 6, 3]],
    f: (p, y) => tf.mean(tf.sqrt(tf.add(tf.square(tf.sub(p!, y!)), 1e-6))),
  },
  {
    name: 'binary cross-entropy',
    shapes: [[6, 1]],
    range: [-3, 3],
    f: (z) => tf.losses.sigmoidCrossEntropy(tf.tensor2d([[0], [1], [1], [0], [1], [0]]), z!),
  },
];
