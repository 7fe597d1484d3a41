// Conv2DBackpropFilter for wasm (tfjs-backend-wasm 4.22 has none, so no conv net could train on it).
//
//   dW[u, v, ci, co] = sum over n, oh, ow of x[n, oh*s + u - p, ow*s + v - p, ci] * dy[n, oh, ow, co]
//
// Read with ci as the batch, n as the input channel and dy as a (huge) filter, this is itself a conv2d:
//   xT  = x  transposed to [ci, H, W, n]
//   dyT = dy transposed to [OH, OW, n, co]                 (the "filter")
//   conv2d(xT, dyT, stride 1, dilation s, padding p)  ->  [ci, kh, kw, co]  ->  transpose to [kh, kw, ci, co]
// so the whole reduction runs inside XNNPACK's conv GEMM (SIMD, and multi-threaded when the threaded wasm
// build is active). The two input transposes are single memory passes. An im2col + matMul formulation
// was measured too and is ~2x slower here: wasm's matMul has no transposed fast path and the
// im2col copies cost more than the transposes.
//
// A 1x1 convolution with stride 1 is a plain matrix product, dW = xᵀ · dy over all pixels, and a matMul
// is 3-10x faster than the trick above for it (NAFNet is mostly 1x1 convs). XNNPACK packs matMul's second
// operand cheaply and the first must be transposed explicitly, so the operand with fewer channels is the
// one transposed (measured: the other order is up to 10x slower).
import * as tf from '@tensorflow/tfjs-core';
import { backend_util, Conv2DBackpropFilter } from '@tensorflow/tfjs-core';
import type { Conv2DBackpropFilterAttrs } from '@tensorflow/tfjs-core';
import { composeKernel, padOrCrop, padToNHWC } from './compose';

export function conv2dBackpropFilterNHWC(x: tf.Tensor4D, dy: tf.Tensor4D, attrs: Conv2DBackpropFilterAttrs): tf.Tensor4D {
  const info = backend_util.computeConv2DInfo(
    x.shape,
    attrs.filterShape,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    'channelsLast',
  );
  const { strideHeight: sh, strideWidth: sw, filterHeight: kh, filterWidth: kw, outHeight: oh, outWidth: ow } = info;
  const { top, left } = info.padInfo;
  if (kh === 1 && kw === 1 && sh === 1 && sw === 1 && top + left + info.padInfo.bottom + info.padInfo.right === 0) {
    return pointwiseFilterGrad(x, dy);
  }
  // Rows the forward pass read span [-top, (oh-1)*sh + kh - 1 - top]; pad (or crop) the bottom/right so
  // the correlation yields exactly kh x kw outputs.
  const bottom = (oh - 1) * sh + kh - info.inHeight - top;
  const right = (ow - 1) * sw + kw - info.inWidth - left;

  const xT = tf.transpose(x, [3, 1, 2, 0]) as tf.Tensor4D;
  const dyT = tf.transpose(dy, [1, 2, 0, 3]) as tf.Tensor4D;
  const { x: input, pads } = padOrCrop(xT, [top, bottom], [left, right]);
  const grad = tf.conv2d(input, dyT, 1, pads, 'NHWC', [sh, sw]);
  return tf.transpose(grad, [1, 2, 0, 3]) as tf.Tensor4D;
}

/** dW of a 1x1, stride-1, unpadded conv: [1, 1, ci, co] = xᵀ · dy over all n*h*w pixels. */
function pointwiseFilterGrad(x: tf.Tensor4D, dy: tf.Tensor4D): tf.Tensor4D {
  const ci = x.shape[3];
  const co = dy.shape[3];
  const pixels = x.size / ci;
  const x2 = tf.reshape(x, [pixels, ci]) as tf.Tensor2D;
  const dy2 = tf.reshape(dy, [pixels, co]) as tf.Tensor2D;
  const grad = ci <= co ? tf.matMul(tf.transpose(x2), dy2) : tf.transpose(tf.matMul(tf.transpose(dy2), x2));
  return tf.reshape(grad, [1, 1, ci, co]) as tf.Tensor4D;
}

export const conv2dBackpropFilterConfig = composeKernel<Conv2DBackpropFilterAttrs>(
  Conv2DBackpropFilter,
  'wasm',
  ({ x, dy }, attrs) => {
    if (attrs.dataFormat === 'NCHW') {
      const xNHWC = tf.transpose(x!, [0, 2, 3, 1]) as tf.Tensor4D;
      const dyNHWC = tf.transpose(dy!, [0, 2, 3, 1]) as tf.Tensor4D;
      return conv2dBackpropFilterNHWC(xNHWC, dyNHWC, { ...attrs, pad: padToNHWC(attrs.pad), dataFormat: 'NHWC' });
    }
    return conv2dBackpropFilterNHWC(x as tf.Tensor4D, dy as tf.Tensor4D, attrs);
  },
);
