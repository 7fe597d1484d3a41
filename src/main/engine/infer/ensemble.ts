// "Best quality": test-time self-ensemble. The model restores the tile in its 8 orientations (4 rotations, each
// also mirrored); every result is turned back and the 8 are averaged. Errors that depend on orientation average
// out (typically +0.1 to +0.3 dB), at 8x the time. Only for models that keep orientation meaning: any
// convolutional restorer; not a fixed-size model, whose padding would differ per orientation.
import * as tf from '@tensorflow/tfjs-core';
import { StudioError } from '#shared/rpc/errors';
import type { RestoreModel } from './model';

/** How many passes the self-ensemble costs: the time estimate multiplies by this. */
export const ENSEMBLE_PASSES = 8;

/** Rotates NHWC by 90 degrees k times (counter-clockwise): a transpose of H and W, then a flip. */
function rot90(x: tf.Tensor4D, k: number): tf.Tensor4D {
  let y = x;
  for (let i = 0; i < ((k % 4) + 4) % 4; i++) y = tf.reverse(tf.transpose(y, [0, 2, 1, 3]), 1);
  return y;
}

/**
 * `model` run as its self-ensemble (same interface: the tiler, estimates and stages see one model). The
 * ensemble owns the model: disposing it disposes the model, and so does a refusal.
 */
export function selfEnsemble(model: RestoreModel): RestoreModel {
  if (model.fixedSize) {
    model.dispose();
    throw new StudioError('BAD_INPUT', `"${model.name}" only takes ${model.fixedSize.join('x')} inputs; best quality (8 orientations) needs a model of any size.`);
  }
  const run = (x: tf.Tensor4D): tf.Tensor4D =>
    tf.tidy(() => {
      let sum: tf.Tensor4D | null = null;
      for (const mirrored of [false, true]) {
        const base = mirrored ? tf.reverse(x, 2) : x;
        for (let k = 0; k < 4; k++) {
          const restored = model.run(rot90(base, k));
          let back = rot90(restored, -k);
          if (mirrored) back = tf.reverse(back, 2);
          sum = sum ? (tf.add(sum, back) as tf.Tensor4D) : back;
        }
      }
      return tf.div(sum!, ENSEMBLE_PASSES);
    });
  return {
    ...model,
    id: model.id,
    name: `${model.name} (best quality)`,
    fingerprint: `${model.fingerprint}+ensemble8`,
    run,
    macsPerPixel: model.macsPerPixel == null ? model.macsPerPixel : model.macsPerPixel * ENSEMBLE_PASSES,
    dispose: () => model.dispose(),
  };
}
