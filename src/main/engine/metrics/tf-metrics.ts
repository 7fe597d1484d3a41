// tfjs versions of the metrics, for validation during training and as differentiable losses. Same
// conventions as ./image-metrics (see there): 8-bit quantisation floor(clamp(x,0,1)*255 + 0.5) for the
// table-style metrics, 11-tap Gaussian sigma 1.5, K1 0.01, K2 0.03, 'valid' SSIM map, mean over channels.
// Tensors are NHWC. The per-image functions return one value per batch item.
//
// The Gaussian filter runs as two 1-D conv2d passes on the channels folded into the batch (instead of a
// depthwise conv), so its gradient needs only Conv2DBackpropInput.
import * as tf from '@tensorflow/tfjs-core';
import { gaussian1d, ssimWindowSize, SSIM_K1, SSIM_K2 } from './gaussian';

export interface TfSsimOptions {
  /** Quantise to 8 bits first (metric; not differentiable). Default false. */
  quantize?: boolean;
}

/** floor(clamp(x, 0, 1) * 255 + 0.5): 0..255 as float32. */
export function quantize8Tf(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.floor(tf.add(tf.mul(tf.clipByValue(x, 0, 1), 255), 0.5)));
}

/** Per-image PSNR in dB [n] on 8-bit quantised values (Infinity where identical). */
export function psnrTf(a: tf.Tensor4D, b: tf.Tensor4D): tf.Tensor1D {
  return tf.tidy(() => {
    const d = tf.sub(quantize8Tf(a), quantize8Tf(b));
    const mse = tf.mean(tf.square(d), [1, 2, 3]);
    return tf.mul(tf.sub(tf.log(255 * 255), tf.log(mse)), 10 / Math.LN10) as tf.Tensor1D;
  });
}

function blur(planes: tf.Tensor4D, kv: tf.Tensor4D, kh: tf.Tensor4D): tf.Tensor4D {
  return tf.conv2d(tf.conv2d(planes, kv, 1, 'valid'), kh, 1, 'valid');
}

/** Per-image SSIM [n]. With quantize, on 0..255 values with L = 255; else on raw values with L = 1. */
export function ssimTf(a: tf.Tensor4D, b: tf.Tensor4D, options: TfSsimOptions = {}): tf.Tensor1D {
  return tf.tidy(() => {
    const [n, h, w, c] = a.shape;
    const quantize = options.quantize ?? false;
    const range = quantize ? 255 : 1;
    const c1 = (SSIM_K1 * range) ** 2;
    const c2 = (SSIM_K2 * range) ** 2;
    const x0 = quantize ? quantize8Tf(a) : a;
    const y0 = quantize ? quantize8Tf(b) : b;
    // [n, h, w, c] -> [n*c, h, w, 1]
    const fold = (t: tf.Tensor): tf.Tensor4D => tf.reshape(tf.transpose(t, [0, 3, 1, 2]), [n * c, h, w, 1]);
    const x = fold(x0);
    const y = fold(y0);
    const size = ssimWindowSize(h, w);
    const g = Array.from(gaussian1d(size));
    const kv = tf.tensor4d(g, [size, 1, 1, 1]);
    const kh = tf.tensor4d(g, [1, size, 1, 1]);
    const mx = blur(x, kv, kh);
    const my = blur(y, kv, kh);
    const mxx = tf.square(mx);
    const myy = tf.square(my);
    const mxy = tf.mul(mx, my);
    const vx = tf.sub(blur(tf.square(x), kv, kh), mxx);
    const vy = tf.sub(blur(tf.square(y), kv, kh), myy);
    const cxy = tf.sub(blur(tf.mul(x, y), kv, kh), mxy);
    const num = tf.mul(tf.add(tf.mul(mxy, 2), c1), tf.add(tf.mul(cxy, 2), c2));
    const den = tf.mul(tf.add(tf.add(mxx, myy), c1), tf.add(tf.add(vx, vy), c2));
    const map = tf.div(num, den); // [n*c, oh, ow, 1]
    const perPlane = tf.mean(map, [1, 2, 3]); // [n*c]
    return tf.mean(tf.reshape(perPlane, [n, c]), 1) as tf.Tensor1D;
  });
}
