// The train step: one optimizer update on one batch. Restorers minimise their pixel loss (with a GAN, one
// generator and one discriminator update, gan.ts); the classifier its binary cross-entropy on clean (0) and
// degraded (1) patches. Every tensor made here is disposed before it returns.
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { ModelTask } from '#shared/model-card';
import type { PatchBatch } from '../data/types';
import { batchTensors, classifierBatch } from './batches';
import { ganStep } from './gan';
import { binaryAccuracy, binaryCrossEntropy, type LossFn } from './losses';

/** What the step trains: the model, its optimizer and loss, and the discriminator when GAN is on. */
export interface Trainee {
  task: ModelTask;
  model: tfl.LayersModel;
  optimizer: tf.Optimizer;
  /** The model's trainable variables (read once per run: the list is the same every step). */
  variables: tf.Variable[];
  lossFn: LossFn;
  gan: { discriminator: tfl.LayersModel; optimizer: tf.Optimizer; adversarialWeight: number } | null;
}

export interface StepResult {
  /** The batch's loss (a GAN's pixel loss), before the update. */
  loss: number;
  /** Classifier only: the share of patches it labelled right. */
  accuracy: number | null;
}

export function trainableVariables(model: tfl.LayersModel): tf.Variable[] {
  return model.trainableWeights.map((w) => w.read() as tf.Variable);
}

/** Sets the optimizer's learning rate for the next update. */
export function setLearningRate(optimizer: tf.Optimizer, lr: number): void {
  // Adam reads this.learningRate on every applyGradients; tfjs declares it protected.
  (optimizer as unknown as { learningRate: number }).learningRate = lr;
}

/** One update of the trainee on `batch`. */
export async function trainStep(t: Trainee, batch: PatchBatch): Promise<StepResult> {
  if (t.task === 'classify') {
    const kept: { acc: tf.Scalar | null } = { acc: null };
    const loss = tf.tidy(() => {
      const [x, labels] = classifierBatch(batch);
      const { value, grads } = tf.variableGrads(() => {
        const p = t.model.apply(x, { training: true }) as tf.Tensor;
        kept.acc = tf.keep(binaryAccuracy(p, labels));
        return binaryCrossEntropy(p, labels);
      }, t.variables);
      t.optimizer.applyGradients(t.variables.map((v) => ({ name: v.name, tensor: grads[v.name]! })));
      return value;
    });
    const lossValue = (await loss.data())[0]!;
    const accuracy = (await kept.acc!.data())[0]!;
    tf.dispose([loss, kept.acc!]);
    return { loss: lossValue, accuracy };
  }
  if (t.gan) {
    const [degraded, clean] = batchTensors(batch);
    const [pixel, adversarial, discLoss] = ganStep({
      generator: t.model,
      discriminator: t.gan.discriminator,
      generatorOptimizer: t.optimizer,
      discriminatorOptimizer: t.gan.optimizer,
      pixelLoss: t.lossFn,
      adversarialWeight: t.gan.adversarialWeight,
      degraded,
      clean,
    });
    const lossValue = (await pixel.data())[0]!;
    tf.dispose([degraded, clean, pixel, adversarial, discLoss]);
    return { loss: lossValue, accuracy: null };
  }
  const loss = tf.tidy(() => {
    const [x, y] = batchTensors(batch);
    return t.optimizer.minimize(() => t.lossFn(t.model.apply(x, { training: true }) as tf.Tensor4D, y), true, t.variables) as tf.Scalar;
  });
  const lossValue = (await loss.data())[0]!;
  loss.dispose();
  return { loss: lossValue, accuracy: null };
}
