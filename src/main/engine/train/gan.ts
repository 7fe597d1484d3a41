// Optional conditional-GAN fine-tuning (pix2pix style), off by default: a small PatchGAN discriminator sees
// (degraded, image) pairs and scores each ~16x16 receptive field real or fake; the restorer trains on its
// pixel loss + adversarialWeight x the adversarial loss, the discriminator on real (clean) vs fake (restored)
// pairs. Meant for fine-tuning a restorer that already trained on pixel losses (sharper texture, slightly
// lower PSNR).
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { asSym, conv, imageInput } from '../models/blocks';

/** PatchGAN: 4x4 convs, strides 2-2-1-1, LeakyReLU 0.2, one logit per patch. Input: 2 x channels. */
export function buildDiscriminator(channels: number, filters: number): tfl.LayersModel {
  const input = imageInput(2 * channels, null, null, 'pair');
  let x = input;
  [filters, filters * 2, filters * 4].forEach((f, i) => {
    x = conv(x, f, 4, { strides: i < 2 ? 2 : 1, name: `disc_conv${i + 1}` });
    x = asSym(tfl.layers.leakyReLU({ alpha: 0.2, name: `disc_lrelu${i + 1}` }).apply(x));
  });
  const logits = conv(x, 1, 4, { name: 'disc_logits' });
  return tfl.model({ inputs: input, outputs: logits, name: 'patchgan' });
}

/** Mean sigmoid cross-entropy of logits against a constant label, numerically stable. */
export function bceWithLogits(logits: tf.Tensor, label: 0 | 1): tf.Scalar {
  const pos = tf.relu(logits);
  const term = label === 1 ? tf.sub(pos, logits) : pos;
  return tf.mean(tf.add(term, tf.log1p(tf.exp(tf.neg(tf.abs(logits))))));
}

export interface GanStepInput {
  generator: tfl.LayersModel;
  discriminator: tfl.LayersModel;
  generatorOptimizer: tf.Optimizer;
  discriminatorOptimizer: tf.Optimizer;
  pixelLoss: (p: tf.Tensor4D, t: tf.Tensor4D) => tf.Scalar;
  adversarialWeight: number;
  degraded: tf.Tensor4D;
  clean: tf.Tensor4D;
}

function vars(model: tfl.LayersModel): tf.Variable[] {
  return model.trainableWeights.map((w) => w.read() as tf.Variable);
}

/** One generator step then one discriminator step. Returns [pixel loss, adversarial loss, discriminator loss]. */
export function ganStep(s: GanStepInput): [tf.Scalar, tf.Scalar, tf.Scalar] {
  return tf.tidy(() => {
    const gVars = vars(s.generator);
    let pixel: tf.Scalar | null = null;
    let adversarial: tf.Scalar | null = null;
    const g = tf.variableGrads(() => {
      const restored = s.generator.apply(s.degraded, { training: true }) as tf.Tensor4D;
      pixel = tf.keep(s.pixelLoss(restored, s.clean));
      const logits = s.discriminator.apply(tf.concat([s.degraded, restored], 3), { training: true }) as tf.Tensor;
      adversarial = tf.keep(bceWithLogits(logits, 1));
      return tf.add(pixel, tf.mul(adversarial, s.adversarialWeight));
    }, gVars);
    s.generatorOptimizer.applyGradients(gVars.map((v) => ({ name: v.name, tensor: g.grads[v.name]! })));

    const fake = s.generator.predict(s.degraded) as tf.Tensor4D;
    const dVars = vars(s.discriminator);
    const d = tf.variableGrads(() => {
      const real = bceWithLogits(s.discriminator.apply(tf.concat([s.degraded, s.clean], 3), { training: true }) as tf.Tensor, 1);
      const forged = bceWithLogits(s.discriminator.apply(tf.concat([s.degraded, fake], 3), { training: true }) as tf.Tensor, 0);
      return tf.mul(tf.add(real, forged), 0.5);
    }, dVars);
    s.discriminatorOptimizer.applyGradients(dVars.map((v) => ({ name: v.name, tensor: d.grads[v.name]! })));
    return [pixel!, adversarial!, d.value];
  });
}
