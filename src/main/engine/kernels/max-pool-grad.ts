// MaxPoolGrad for wasm. tfjs-backend-wasm 4.22 ships one (native), but it is wrong: it starts each
// window's maximum at std::numeric_limits<float>::min() (the smallest *positive* float), so a window
// whose values are all <= 0 gets no gradient, and on ties it keeps the last maximum where cpu and
// TensorFlow keep the first (found by probe.ts).
//
// The gradient of a max goes to the first maximum of each window in row-major scan order. Composed from
// native ops, arranged so no slow path is hit (on wasm, Slice copies its whole input into JavaScript,
// and comparisons or broadcasts over a trailing axis of size kh*kw fall back to scalar loops):
//   windows = every window's values as [positions, taps, channels]
//   first   = oneHot(argMax over taps)          (argMax keeps the first maximum)
//   dx      = first * dy, put back where each tap came from
// When the windows tile the input (stride == pool size, no padding: the zoo's 2x2/2 pooling) "windows"
// and "put back" are a reshape + transpose each. Otherwise the taps are read by a one-hot depthwise conv
// and put back by its transpose (window-taps.ts), with the lowest float as 'same' padding so a padded
// position is never a maximum.
import * as tf from '@tensorflow/tfjs-core';
import { backend_util, MaxPoolGrad } from '@tensorflow/tfjs-core';
import type { MaxPoolGradAttrs } from '@tensorflow/tfjs-core';
import { composeKernel } from './compose';
import { depthwiseBackpropInput } from './depthwise-backprop';
import { allTapsFilter } from './window-taps';

const LOWEST_FLOAT32 = -3.4028234663852886e38;

/** [p, m, c] one-hot of the first maximum over m, times dy ([p, c]). */
function firstMaxShares(windows: tf.Tensor3D, dy: tf.Tensor): tf.Tensor3D {
  const [p, m, c] = windows.shape;
  const first = tf.oneHot(tf.reshape(tf.argMax(windows, 1), [p * c]), m); // [p*c, m] int32
  const mask = tf.transpose(tf.reshape(tf.cast(first, 'float32'), [p, c, m]), [0, 2, 1]);
  return tf.mul(mask, tf.reshape(dy, [p, 1, c])) as tf.Tensor3D;
}

/** Windows that tile the input exactly: [n, oh*kh, ow*kw, c] <-> [n*oh*ow, kh*kw, c] by reshape/transpose. */
function tiledGrad(dy: tf.Tensor4D, x: tf.Tensor4D, kh: number, kw: number): tf.Tensor4D {
  const [n, oh, ow, c] = dy.shape;
  const p = n * oh * ow;
  const windows = tf.reshape(tf.transpose(tf.reshape(x, [n * oh, kh, ow, kw * c]), [0, 2, 1, 3]), [p, kh * kw, c]);
  const shares = firstMaxShares(windows as tf.Tensor3D, dy);
  return tf.reshape(tf.transpose(tf.reshape(shares, [n * oh, ow, kh, kw * c]), [0, 2, 1, 3]), [n, oh * kh, ow * kw, c]) as tf.Tensor4D;
}

function generalGrad(dy: tf.Tensor4D, x: tf.Tensor4D, info: backend_util.Conv2DInfo): tf.Tensor4D {
  const { strideHeight: sh, strideWidth: sw, filterHeight: kh, filterWidth: kw, outHeight: oh, outWidth: ow } = info;
  const { top, bottom, left, right } = info.padInfo;
  const [n, inH, inW, c] = x.shape;
  const m = kh * kw;
  const padded = top + bottom + left + right > 0;
  const frame = padded ? tf.pad(x, [[0, 0], [top, bottom], [left, right], [0, 0]], LOWEST_FLOAT32) : x;
  const filter = allTapsFilter(kh, kw, c);
  // Taps come out as channel c*m + t; regroup to [positions, taps, channels] for firstMaxShares.
  const taps = tf.reshape(tf.depthwiseConv2d(frame, filter, [sh, sw], 'valid'), [n * oh * ow, c, m]);
  const shares = firstMaxShares(tf.transpose(taps, [0, 2, 1]) as tf.Tensor3D, dy);
  const sharesByChannel = tf.reshape(tf.transpose(shares, [0, 2, 1]), [n, oh, ow, c * m]) as tf.Tensor4D;
  const dxFrame = depthwiseBackpropInput(sharesByChannel, filter, { inputShape: frame.shape, strides: [sh, sw], pad: 'valid', dilations: 1 });
  return padded ? tf.slice(dxFrame, [0, top, left, 0], [n, inH, inW, c]) : dxFrame;
}

export function maxPoolGradNHWC(dy: tf.Tensor4D, x: tf.Tensor4D, attrs: MaxPoolGradAttrs): tf.Tensor4D {
  const info = backend_util.computePool2DInfo(x.shape, attrs.filterSize, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode);
  const { strideHeight: sh, strideWidth: sw, filterHeight: kh, filterWidth: kw, outHeight: oh, outWidth: ow } = info;
  const { top, bottom, left, right } = info.padInfo;
  const tiles = sh === kh && sw === kw && top + bottom + left + right === 0;
  if (!tiles) return generalGrad(dy, x, info);
  const [n, inH, inW, c] = x.shape;
  const coveredH = oh * kh;
  const coveredW = ow * kw;
  if (coveredH === inH && coveredW === inW) return tiledGrad(dy, x, kh, kw);
  // 'valid' pooling skipped the last rows/columns: they get no gradient.
  const dx = tiledGrad(dy, tf.slice(x, [0, 0, 0, 0], [n, coveredH, coveredW, c]), kh, kw);
  return tf.pad(dx, [[0, 0], [0, inH - coveredH], [0, inW - coveredW], [0, 0]]);
}

export const maxPoolGradConfig = composeKernel<MaxPoolGradAttrs>(MaxPoolGrad, 'wasm', ({ dy, input }, attrs) =>
  maxPoolGradNHWC(dy as tf.Tensor4D, input as tf.Tensor4D, attrs),
);
