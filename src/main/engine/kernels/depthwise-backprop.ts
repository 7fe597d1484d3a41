// The two gradients of depthwiseConv2d for wasm (tfjs-backend-wasm 4.22 has neither).
//
// Filter [kh, kw, c, m] (m = channel multiplier); output channel c*m + j reads input channel c.
//
// Input gradient: per channel it is a transposed convolution, so it reuses the phase decomposition of
// transposed-conv.ts with depthwiseConv2d as the correlation (on dy's c*m channels with the rotated taps
// as a multiplier-1 filter), then sums the m outputs of each input channel.
//
// Filter gradient: dF[u, v, c, j] = sum over n, oh, ow of x[n, oh*s + u*d - p, ..., c] * dy[n, oh, ow, c*m + j].
// A depthwise filter has few taps (kh*kw) and each tap is one elementwise product summed over batch and
// space: the input under the tap (a one-hot depthwise conv), a multiply and a global average pool, all
// native wasm ops. (The conv2d trick of conv2d-backprop-filter.ts would compute all c x c channel pairs
// to keep c of them.)
import * as tf from '@tensorflow/tfjs-core';
import { backend_util, DepthwiseConv2dNativeBackpropFilter, DepthwiseConv2dNativeBackpropInput } from '@tensorflow/tfjs-core';
import type { DepthwiseConv2dNativeBackpropFilterAttrs, DepthwiseConv2dNativeBackpropInputAttrs } from '@tensorflow/tfjs-core';
import { composeKernel, type Pads4 } from './compose';
import { oneTapFilter } from './window-taps';
import { gatherTaps, planAxis, transposedConv } from './transposed-conv';

export function depthwiseBackpropInput(
  dy: tf.Tensor4D,
  filter: tf.Tensor4D,
  attrs: DepthwiseConv2dNativeBackpropInputAttrs,
): tf.Tensor4D {
  const info = backend_util.computeConv2DInfo(
    attrs.inputShape,
    filter.shape,
    attrs.strides,
    attrs.dilations,
    attrs.pad,
    attrs.dimRoundingMode,
    true,
  );
  const [n, inH, inW, c] = attrs.inputShape;
  const m = filter.shape[3];
  const rows = planAxis(inH, info.outHeight, info.filterHeight, info.strideHeight, info.dilationHeight, info.padInfo.top);
  const cols = planAxis(inW, info.outWidth, info.filterWidth, info.strideWidth, info.dilationWidth, info.padInfo.left);
  // Phases are computed on all c*m channels of dy, then the multiplier is summed out once at the end.
  const perOutputChannel = transposedConv(dy, [n, inH, inW, c * m], rows, cols, (x, tapsH, tapsW, pads, dilations) => {
    const taps = gatherTaps(filter, tapsH, tapsW);
    const w = tf.reshape(taps, [tapsH.length, tapsW.length, c * m, 1]) as tf.Tensor4D;
    return tf.depthwiseConv2d(x, w, 1, pads, 'NHWC', dilations);
  });
  if (m === 1) return perOutputChannel;
  return tf.sum(tf.reshape(perOutputChannel, [n, inH, inW, c, m]), 4) as tf.Tensor4D;
}

export function depthwiseBackpropFilter(
  x: tf.Tensor4D,
  dy: tf.Tensor4D,
  attrs: DepthwiseConv2dNativeBackpropFilterAttrs,
): tf.Tensor4D {
  const info = backend_util.computeConv2DInfo(
    x.shape,
    attrs.filterShape,
    attrs.strides,
    attrs.dilations,
    attrs.pad,
    attrs.dimRoundingMode,
    true,
  );
  const [kh, kw, c, m] = attrs.filterShape;
  const { outHeight: oh, outWidth: ow } = info;
  const [n] = x.shape;
  const pads: Pads4 = [[0, 0], [info.padInfo.top, info.padInfo.bottom], [info.padInfo.left, info.padInfo.right], [0, 0]];
  const strides: [number, number] = [info.strideHeight, info.strideWidth];
  const dilations: [number, number] = [info.dilationHeight, info.dilationWidth];
  const dyPerChannel = m === 1 ? dy : tf.reshape(dy, [n, oh, ow, c, m]);
  const taps: tf.Tensor[] = [];
  for (let u = 0; u < kh; u++) {
    for (let v = 0; v < kw; v++) {
      // The input under tap (u, v) of every output position, read by a one-hot depthwise conv with the
      // forward pass's own strides, dilations and padding (window-taps.ts: no slicing).
      const window = tf.depthwiseConv2d(x, oneTapFilter(kh, kw, c, u, v), strides, pads, 'NHWC', dilations);
      const product = m === 1 ? tf.mul(window, dyPerChannel) : tf.reshape(tf.mul(tf.expandDims(window, 4), dyPerChannel), [n, oh, ow, c * m]);
      // Sum over batch and space: a global average pool (native, no transpose) times the window count.
      const pooled = tf.avgPool(product as tf.Tensor4D, [oh, ow], 1, 'valid');
      taps.push(tf.mul(tf.sum(tf.reshape(pooled, [n, c * m]), 0), oh * ow));
    }
  }
  return tf.reshape(tf.stack(taps), [kh, kw, c, m]) as tf.Tensor4D;
}

export const depthwiseBackpropInputConfig = composeKernel<DepthwiseConv2dNativeBackpropInputAttrs>(
  DepthwiseConv2dNativeBackpropInput,
  'wasm',
  ({ dy, filter }, attrs) => depthwiseBackpropInput(dy as tf.Tensor4D, filter as tf.Tensor4D, attrs),
);

export const depthwiseBackpropFilterConfig = composeKernel<DepthwiseConv2dNativeBackpropFilterAttrs>(
  DepthwiseConv2dNativeBackpropFilter,
  'wasm',
  ({ x, dy }, attrs) => depthwiseBackpropFilter(x as tf.Tensor4D, dy as tf.Tensor4D, attrs),
);
