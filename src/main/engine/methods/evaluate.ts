// The evaluation job: a restoration model on a paired folder (or clean images degraded by a preset with a
// fixed seed), whole images, per-image PSNR and SSIM of the restored output and of the degraded input, and
// their means.
//
// Metrics are the ones published restoration tables use (see metrics/image-metrics.ts): RGB, both images
// quantised to 8 bits first, PSNR over all channels, SSIM with an 11x11 Gaussian window averaged over the
// channels; identical images score 100 dB (cap). Images run through the model whole (it is fully
// convolutional), cut into large overlapping tiles only when they exceed the tile size, so memory stays
// bounded; tiles align to the model's size multiple.
import { StudioError, throwIfAborted } from '#shared/rpc/errors';
import {
  EvaluateParamsSchema,
  type EvaluateEvent,
  type EvaluateParamsInput,
  type EvaluateResult,
  type ImageScore,
} from '#shared/evaluation';
import { deriveSeed, loadRgbImage, synthesize, type RgbImage } from '../data/index';
import { decodeFailureReason } from '../data/image';
import { psnr, ssim } from '../metrics/index';
import { PSNR_CAP } from '../train/index';
import { loadRestoreModel } from '../infer/model';
import { selfEnsemble } from '../infer/ensemble';
import { planTiles } from '../infer/memory';
import { restoreTiled } from '../infer/tiles';
import { modelsRoot, openJobData, parseParams } from './common';

export interface EvaluateJobContext {
  signal?: AbortSignal;
  emit?: (event: EvaluateEvent) => void;
}

function capped(value: number): number {
  return Number.isFinite(value) ? Math.min(value, PSNR_CAP) : PSNR_CAP;
}

function mean(values: number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}

/** PSNR and SSIM of `image` against `clean` (8-bit RGB, PSNR capped). */
export function scoreAgainst(image: RgbImage, clean: RgbImage): { psnr: number; ssim: number } {
  const shape = { height: clean.height, width: clean.width, channels: 3 };
  return { psnr: capped(psnr(image.data, clean.data)), ssim: ssim(image.data, clean.data, shape) };
}

export async function runEvaluateJob(input: EvaluateParamsInput, ctx: EvaluateJobContext = {}): Promise<EvaluateResult> {
  const params = parseParams(EvaluateParamsSchema, input, 'evaluation parameters');
  const emit = (event: EvaluateEvent): void => ctx.emit?.(event);
  const started = performance.now();
  const { dataset, recipe } = await openJobData(params.data, params.synth);
  const items = dataset.items.slice(0, params.maxImages ?? dataset.items.length);
  const loaded = await loadRestoreModel(params.model, { modelsDir: modelsRoot(params.modelsDir) });
  const model = params.ensemble ? selfEnsemble(loaded) : loaded;
  try {
    // Scores compare the output with the clean image pixel for pixel, so an upscaler (output S x the input)
    // has nothing of its size to be scored against here.
    if ((model.scale ?? 1) !== 1) {
      throw new StudioError(
        'BAD_INPUT',
        `"${model.name}" is a ${model.scale}x upscaler; evaluate scores restorations that keep the size (its output would be ${model.scale}x the clean image).`,
      );
    }
    const plan = planTiles(model, params.tile);
    emit({ type: 'start', model: { id: model.id, name: model.name }, images: items.length, datasetKind: dataset.kind, tile: plan.tile });
    const images: ImageScore[] = [];
    const skipped: { file: string; reason: string }[] = [];
    const skip = (file: string, reason: string): void => {
      skipped.push({ file, reason });
      emit({ type: 'skipped', file, reason });
    };
    let index = 0;
    for (const item of items) {
      index += 1;
      throwIfAborted(ctx.signal);
      const t0 = performance.now();
      let clean: RgbImage;
      let degraded: RgbImage;
      try {
        clean = await loadRgbImage(item.clean);
      } catch (error) {
        skip(item.id, `clean image unreadable: ${decodeFailureReason(error)}`);
        continue;
      }
      if (item.degraded) {
        try {
          degraded = await loadRgbImage(item.degraded);
        } catch (error) {
          skip(item.id, `degraded image unreadable: ${decodeFailureReason(error)}`);
          continue;
        }
        if (degraded.width !== clean.width || degraded.height !== clean.height) {
          skip(item.id, `the degraded image is ${degraded.width}x${degraded.height}, the clean one ${clean.width}x${clean.height}`);
          continue;
        }
      } else {
        degraded = (await synthesize(clean, recipe!, deriveSeed(params.seed, 'eval', item.id))).image;
      }
      const restored = await restoreTiled(model.run, degraded, { ...plan, multiple: model.multiple, signal: ctx.signal });
      const out = scoreAgainst(restored, clean);
      const before = scoreAgainst(degraded, clean);
      const score: ImageScore = {
        file: item.id,
        psnr: out.psnr,
        ssim: out.ssim,
        inputPsnr: before.psnr,
        inputSsim: before.ssim,
        width: clean.width,
        height: clean.height,
        seconds: (performance.now() - t0) / 1000,
      };
      images.push(score);
      emit({ type: 'image', ...score, index, total: items.length });
    }
    if (images.length === 0) {
      throw new StudioError(
        'DATASET_EMPTY',
        `No image of ${dataset.root} could be evaluated${skipped.length ? ` (${skipped.map((s) => `${s.file}: ${s.reason}`).join('; ')})` : ''}.`,
      );
    }
    const result: EvaluateResult = {
      model: { id: model.id, name: model.name },
      data: dataset.root,
      datasetKind: dataset.kind,
      synth: params.synth ?? null,
      seed: params.seed,
      psnr: mean(images.map((i) => i.psnr)),
      ssim: mean(images.map((i) => i.ssim)),
      inputPsnr: mean(images.map((i) => i.inputPsnr)),
      inputSsim: mean(images.map((i) => i.inputSsim)),
      images,
      skipped,
      seconds: (performance.now() - started) / 1000,
    };
    emit({ type: 'done', result });
    return result;
  } finally {
    model.dispose();
  }
}
