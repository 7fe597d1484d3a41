// The validation step: the model on the caller's fixed crops after an epoch. Restorers: loss, PSNR and SSIM
// on 8-bit quantised output, and the first crops kept as samples; the classifier: loss and accuracy.
//
// PSNR and SSIM are means over the crops the synthesis degraded. A recipe that leaves some photos untouched
// (old-photo-restore, one in ten) teaches the model to leave a clean photo alone, but those crops score 40-50 dB
// against ~25 for the rest, so in a mean over all crops how well the model keeps them outweighs how well it
// restores: the "best epoch" was then the one that changed clean crops least (epoch 8 of 40 for the bundled
// old-photo, which restored worse than epoch 40). The loss still counts every crop.
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { throwIfAborted } from '#shared/rpc/errors';
import type { ModelTask, TrainRecipe } from '#shared/model-card';
import type { PatchBatch } from '../data/types';
import { psnrTf, ssimTf } from '../metrics/tf-metrics';
import { batchTensors, checkBatch, classifierBatch, inputChannelsOf, mean, photoChannels } from './batches';
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
  // The untouched crops' scores, used only when every crop is untouched (the "none" preset).
  const untouchedPsnrs: number[] = [];
  const untouchedSsims: number[] = [];
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
      const untouched = untouchedCrops(batch);
      (await psnr.data()).forEach((v, i) => (untouched[i] ? untouchedPsnrs : psnrs).push(Math.min(v, PSNR_CAP)));
      (await ssim.data()).forEach((v, i) => (untouched[i] ? untouchedSsims : ssims).push(v));
      if (want > 0) {
        const restored = (await prediction.data()) as Float32Array;
        const size = batch.height * batch.width * batch.channels;
        const cIn = inputChannelsOf(batch);
        const inSize = batch.height * batch.width * cIn;
        for (let i = 0; i < want; i++) {
          samples.push({
            // A filler's input shows as its photo (the damage already interpolated); the mask is not drawn.
            degraded: photoChannels(batch.degraded.slice(i * inSize, (i + 1) * inSize), cIn),
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
  return {
    valLoss: lossSum / count,
    valPsnr: mean(psnrs.length > 0 ? psnrs : untouchedPsnrs),
    valSsim: mean(ssims.length > 0 ? ssims : untouchedSsims),
    valAccuracy: null,
    samples,
  };
}

/** Which crops of a batch the synthesis left exactly as they were (the input photo equals the target). */
function untouchedCrops(batch: PatchBatch): boolean[] {
  const pixels = batch.height * batch.width;
  const c = batch.channels;
  const cIn = inputChannelsOf(batch);
  return Array.from({ length: batch.batch }, (_, i) => {
    for (let p = i * pixels; p < (i + 1) * pixels; p++) {
      for (let k = 0; k < c; k++) if (batch.degraded[p * cIn + k] !== batch.clean[p * c + k]) return false;
    }
    return true;
  });
}
