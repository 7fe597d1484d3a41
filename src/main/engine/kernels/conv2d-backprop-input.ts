// Conv2DBackpropInput for wasm: the input gradient of conv2d, which is also the forward pass of
// conv2dTranspose layers. tfjs-backend-wasm 4.22 does ship this kernel, but as a plain C loop that runs
// about 10x slower than its XNNPACK conv2d; this version expresses it as stride-1 conv2d calls on a
// rotated filter (one per output phase, see transposed-conv.ts).
import * as tf from '@tensorflow/tfjs-core';
import { backend_util, Conv2DBackpropInput } from '@tensorflow/tfjs-core';
import type { Conv2DBackpropInputAttrs } from '@tensorflow/tfjs-core';
import { composeKernel, padToNHWC } from './compose';
import { gatherTaps, planAxis, transposedConv } from './transposed-conv';

export function conv2dBackpropInputNHWC(dy: tf.Tensor4D, filter: tf.Tensor4D, attrs: Conv2DBackpropInputAttrs): tf.Tensor4D {
  const inShape = attrs.inputShape;
  const info = backend_util.computeConv2DInfo(
    inShape,
    filter.shape,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    'channelsLast',
  );
  const rows = planAxis(info.inHeight, info.outHeight, info.filterHeight, info.strideHeight, 1, info.padInfo.top);
  const cols = planAxis(info.inWidth, info.outWidth, info.filterWidth, info.strideWidth, 1, info.padInfo.left);
  return transposedConv(dy, inShape, rows, cols, (x, tapsH, tapsW, pads) => {
    // [kh, kw, in, out] -> taps of this phase, then swap in/out: dy's channels are the conv's outputs.
    const w = tf.transpose(gatherTaps(filter, tapsH, tapsW), [0, 1, 3, 2]) as tf.Tensor4D;
    return tf.conv2d(x, w, 1, pads);
  });
}

export const conv2dBackpropInputConfig = composeKernel<Conv2DBackpropInputAttrs>(
  Conv2DBackpropInput,
  'wasm',
  ({ dy, filter }, attrs) => {
    if (attrs.dataFormat === 'NCHW') {
      // The fast path is channels-last; convert around it.
      const [n, c, h, w] = attrs.inputShape;
      const dyNHWC = tf.transpose(dy!, [0, 2, 3, 1]) as tf.Tensor4D;
      const dx = conv2dBackpropInputNHWC(dyNHWC, filter as tf.Tensor4D, { ...attrs, pad: padToNHWC(attrs.pad), inputShape: [n, h, w, c], dataFormat: 'NHWC' });
      return tf.transpose(dx, [0, 3, 1, 2]);
    }
    return conv2dBackpropInputNHWC(dy as tf.Tensor4D, filter as tf.Tensor4D, attrs);
  },
);
