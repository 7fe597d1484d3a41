// Training losses. Restorers: MSE, L1, Charbonnier, SSIM-mix; the classifier: binary cross-entropy (+ accuracy).
// Every function returns a scalar and must run inside a tidy (the training step's).
import * as tf from '@tensorflow/tfjs-core';
// tfjs-layers registers tfjs-core's gradient functions (the core package alone does not).
import '@tensorflow/tfjs-layers';
import { ssimTf } from '../metrics/tf-metrics';
import type { RestoreLoss } from '#shared/model-card';

export interface LossOptions {
  /** Weight of (1 - SSIM) in ssim-mix (default 0.84). */
  ssimMixAlpha?: number;
  /** Charbonnier epsilon (default 1e-3). */
  charbonnierEpsilon?: number;
}

export type LossFn = (prediction: tf.Tensor4D, target: tf.Tensor4D) => tf.Scalar;

export function mseLoss(p: tf.Tensor, t: tf.Tensor): tf.Scalar {
  return tf.mean(tf.squaredDifference(p, t));
}

export function l1Loss(p: tf.Tensor, t: tf.Tensor): tf.Scalar {
  return tf.mean(tf.abs(tf.sub(p, t)));
}

/** mean(sqrt((p - t)^2 + eps^2)): a smooth L1. */
export function charbonnierLoss(p: tf.Tensor, t: tf.Tensor, epsilon = 1e-3): tf.Scalar {
  return tf.mean(tf.sqrt(tf.add(tf.squaredDifference(p, t), epsilon * epsilon)));
}

/** alpha * (1 - SSIM) + (1 - alpha) * L1, SSIM on the raw values (L = 1), 11-tap Gaussian. */
export function ssimMixLoss(p: tf.Tensor4D, t: tf.Tensor4D, alpha = 0.84): tf.Scalar {
  const ssim = tf.mean(ssimTf(p, t));
  return tf.add(tf.mul(tf.sub(1, ssim), alpha), tf.mul(l1Loss(p, t), 1 - alpha));
}

export function restoreLoss(kind: RestoreLoss, options: LossOptions = {}): LossFn {
  switch (kind) {
    case 'mse':
      return mseLoss;
    case 'l1':
      return l1Loss;
    case 'charbonnier':
      return (p, t) => charbonnierLoss(p, t, options.charbonnierEpsilon ?? 1e-3);
    case 'ssim-mix':
      return (p, t) => ssimMixLoss(p, t, options.ssimMixAlpha ?? 0.84);
    case 'dice-bce':
      return diceBceLoss;
  }
}

const EPS = 1e-7;

/** Mean binary cross-entropy of probabilities p against labels y (0/1), clipped away from 0 and 1. */
export function binaryCrossEntropy(p: tf.Tensor, y: tf.Tensor): tf.Scalar {
  const q = tf.clipByValue(p, EPS, 1 - EPS);
  return tf.neg(tf.mean(tf.add(tf.mul(y, tf.log(q)), tf.mul(tf.sub(1, y), tf.log(tf.sub(1, q)))))) as tf.Scalar;
}

/**
 * Binary cross-entropy plus soft Dice (1 - 2|P∩T| / (|P| + |T|)) over the whole batch, for per-pixel
 * detection where the positive class covers a few per cent of the pixels: cross-entropy alone is content to
 * predict "no damage" everywhere, Dice rewards finding the defects (it is a smooth F1). Soft labels allowed.
 */
export function diceBceLoss(p: tf.Tensor, y: tf.Tensor): tf.Scalar {
  const intersection = tf.sum(tf.mul(p, y));
  const total = tf.add(tf.sum(p), tf.sum(y));
  const dice = tf.sub(1, tf.div(tf.add(tf.mul(intersection, 2), 1), tf.add(total, 1)));
  return tf.add(binaryCrossEntropy(p, y), dice) as tf.Scalar;
}

/** Share of predictions on the right side of 0.5. */
export function binaryAccuracy(p: tf.Tensor, y: tf.Tensor): tf.Scalar {
  return tf.mean(tf.cast(tf.equal(tf.greater(p, 0.5), tf.greater(y, 0.5)), 'float32')) as tf.Scalar;
}
