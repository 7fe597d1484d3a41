// Window taps without slicing. Pooling and depthwise gradients need, for each offset (u, v) of a kh x kw
// window, the input values at that offset of every window: a strided slice. On wasm, Slice and
// StridedSlice copy the whole input into JavaScript before copying the slice out (tens of ms for one
// activation tensor), so instead the taps are read with a depthwise convolution whose filter is one-hot:
// native XNNPACK, and strides, dilations and padding are handled by the convolution itself. Its adjoint
// (the same filter in a transposed depthwise convolution) puts per-tap values back where they came from.
import * as tf from '@tensorflow/tfjs-core';

/**
 * A [kh, kw, channels, kh*kw] depthwise filter whose output channel c*M + m (M = kh*kw) copies input
 * channel c at window offset m = u*kw + v (row-major scan order).
 */
export function allTapsFilter(kh: number, kw: number, channels: number): tf.Tensor4D {
  const m = kh * kw;
  const values = new Float32Array(kh * kw * channels * m);
  for (let t = 0; t < m; t++) {
    for (let c = 0; c < channels; c++) values[(t * channels + c) * m + t] = 1;
  }
  return tf.tensor4d(values, [kh, kw, channels, m]);
}

/** A [kh, kw, channels, 1] depthwise filter that copies window offset (u, v) of every channel. */
export function oneTapFilter(kh: number, kw: number, channels: number, u: number, v: number): tf.Tensor4D {
  const values = new Float32Array(kh * kw * channels);
  values.fill(1, (u * kw + v) * channels, (u * kw + v + 1) * channels);
  return tf.tensor4d(values, [kh, kw, channels, 1]);
}
