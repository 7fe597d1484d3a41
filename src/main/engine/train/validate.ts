// The validation step: the model on the caller's fixed crops after an epoch. Restorers: loss, PSNR and SSIM
// on 8-bit quantised output, and the first crops kept as samples; the classifier: loss and accuracy.
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { throwIfAborted } from '#shared/rpc/errors';
import type { ModelTask, TrainRecipe } from '#shared/model-card';
import type { PatchBatch } from '../data/types';
import { psnrTf, ssimTf } from '../metrics/tf-metrics';
import { batchTensors, checkBatch, classifierBatch, mean } from './batches';
import { binaryAccuracy, binaryCrossEntropy, type LossFn } from './losses';
import type { SampleImage } from './samples';

/** PSNR of identical images is infinite; records cap it so JSON can hold it. */
export const PSNR_CAP = 100;

/** Fixed validation crops served in batches (the data pipeline's ValidationSet fits this). */
export interface ValidationSource {
  batches(batchSize?: number, signal?: AbortSignal): AsyncIterable<PatchBatch>;
}

export interface ValidationResult {
  valLoss: number | null;
  valPsnr: number | null;
  valSsim: number | null;
  valAccuracy: number | null;
  samples: SampleImage[];
}

/** Scores the model on every validation batch; all nulls when there are none. Leaves no tensors behind. */
export async function validate(
  model: tfl.LayersModel,
  source: PatchBatch[] | ValidationSource,
  recipe: TrainRecipe,
  task: ModelTask,
  lossFn: LossFn,
  signal: AbortSignal | undefined,
): Promise<ValidationResult> {
  const sampleCount = recipe.sampleCount;
  const batches = Array.isArray(source) ? source : source.batches(recipe.batchSize, signal);
  let index = 0;
  let lossSum = 0;
  let count = 0;
  let accSum = 0;
  const psnrs: number[] = [];
  const ssims: number[] = [];
  const samples: SampleImage[] = [];
  for await (const batch of batches) {
    throwIfAborted(signal);
    checkBatch(batch, recipe, `Validation batch ${++index}`, task === 'classify');
    if (task === 'classify') {
      const [loss, acc] = tf.tidy(() => {
        const [x, labels] = classifierBatch(batch);
        const p = model.predict(x) as tf.Tensor;
        return [binaryCrossEntropy(p, labels), binaryAccuracy(p, labels)];
      });
      const n = batch.batch * 2;
      lossSum += (await loss.data())[0]! * n;
      accSum += (await acc.data())[0]! * n;
      count += n;
      tf.dispose([loss, acc]);
      continue;
    }
    const want = Math.min(batch.batch, sampleCount - samples.length);
    const [loss, psnr, ssim, prediction] = tf.tidy(() => {
      const [x, y] = batchTensors(batch);
      const p = model.predict(x) as tf.Tensor4D;
      return [lossFn(p, y), psnrTf(p, y), ssimTf(p, y, { quantize: true }), want > 0 ? p : tf.zeros([0])];
    });
    try {
      lossSum += (await loss.data())[0]! * batch.batch;
      count += batch.batch;
      for (const v of await psnr.data()) psnrs.push(Math.min(v, PSNR_CAP));
      for (const v of await ssim.data()) ssims.push(v);
      if (want > 0) {
        const restored = (await prediction.data()) as Float32Array;
        const size = batch.height * batch.width * batch.channels;
        for (let i = 0; i < want; i++) {
          samples.push({
            degraded: batch.degraded.slice(i * size, (i + 1) * size),
            clean: batch.clean.slice(i * size, (i + 1) * size),
            restored: restored.slice(i * size, (i + 1) * size),
            height: batch.height,
            width: batch.width,
            channels: batch.channels,
          });
        }
      }
    } finally {
      tf.dispose([loss, psnr, ssim, prediction]);
    }
  }
  if (count === 0) return { valLoss: null, valPsnr: null, valSsim: null, valAccuracy: null, samples: [] };
  if (task === 'classify') {
    return { valLoss: lossSum / count, valPsnr: null, valSsim: null, valAccuracy: accSum / count, samples: [] };
  }
  return { valLoss: lossSum / count, valPsnr: mean(psnrs), valSsim: mean(ssims), valAccuracy: null, samples };
}
