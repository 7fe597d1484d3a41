// Evaluating a model on a dataset: the parameters, the per-image scores (PSNR and SSIM of the output and of
// the degraded input), the result and the progress events. Shared by the engine, the services, the CLI and
// the UI; zod only, so the renderer can use it.
import { z } from 'zod';
import { PathString } from './path-string';

export const EvaluateParamsSchema = z
  .object({
    /** Model id in the models folder, or a model folder. */
    model: z.string().min(1),
    /** Paired folder (degraded/ + clean/), or a clean folder with `synth`. */
    data: PathString,
    synth: z.string().min(1).optional(),
    /** Seeds the synthesised degradations (one fixed draw per image). */
    seed: z.number().int().min(0).max(2 ** 32 - 1).default(0),
    /** Tile edge for big images (default: chosen from memory, up to 1024). */
    tile: z.number().int().min(16).max(8192).optional(),
    /** Evaluate at most this many images (the first by name). */
    maxImages: z.number().int().positive().optional(),
    /** Score the model's self-ensemble (8 orientations averaged), as restore's best quality runs it. */
    ensemble: z.boolean().default(false),
    modelsDir: PathString.optional(),
  })
  .strict();
export type EvaluateParams = z.output<typeof EvaluateParamsSchema>;
export type EvaluateParamsInput = z.input<typeof EvaluateParamsSchema>;

/** PSNR (dB, capped at 100 for identical images) and SSIM on 8-bit RGB, of the output and of the input. */
export const ImageScoreSchema = z.object({
  file: z.string(),
  psnr: z.number(),
  ssim: z.number(),
  inputPsnr: z.number(),
  inputSsim: z.number(),
  width: z.number().int().positive(),
  height: z.number().int().positive(),
  seconds: z.number().nonnegative(),
});
export type ImageScore = z.infer<typeof ImageScoreSchema>;

export const EvaluateResultSchema = z.object({
  model: z.object({ id: z.string(), name: z.string() }),
  data: z.string(),
  datasetKind: z.enum(['paired', 'clean']),
  synth: z.string().nullable(),
  seed: z.number().int(),
  /** Means over the images. */
  psnr: z.number(),
  ssim: z.number(),
  inputPsnr: z.number(),
  inputSsim: z.number(),
  images: z.array(ImageScoreSchema),
  /** Images that could not be evaluated, with the reason. */
  skipped: z.array(z.object({ file: z.string(), reason: z.string() })),
  seconds: z.number().nonnegative(),
});
export type EvaluateResult = z.infer<typeof EvaluateResultSchema>;

export const EvaluateEventSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('start'),
    model: z.object({ id: z.string(), name: z.string() }),
    images: z.number().int().nonnegative(),
    datasetKind: z.enum(['paired', 'clean']),
    tile: z.number().int().positive(),
  }),
  ImageScoreSchema.extend({ type: z.literal('image'), index: z.number().int().positive(), total: z.number().int().positive() }),
  z.object({ type: z.literal('skipped'), file: z.string(), reason: z.string() }),
  z.object({ type: z.literal('done'), result: EvaluateResultSchema }),
]);
export type EvaluateEvent = z.infer<typeof EvaluateEventSchema>;
