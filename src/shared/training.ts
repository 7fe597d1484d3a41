// Training a model: the parameters of a run, its progress events (start, batch, epoch, warning, done), the
// run folder's run.json and what resuming needs, and the training-speed measure behind the wizard's time
// estimate. Shared by the engine, the services, the CLI and the UI; zod only (no Node imports), so the renderer
// can use it. Built on the model-card schemas (src/shared/model-card.ts).
import { z } from 'zod';
import {
  ArchitectureIdSchema,
  FinalMetricsSchema,
  HyperParamsSchema,
  LrScheduleSchema,
  RestoreLossSchema,
  TrainBatchEventSchema,
  TrainEpochEventSchema,
} from './model-card';
import { PathString } from './path-string';

export const TrainStopReasonSchema = z.enum(['completed', 'early-stopped', 'cancelled']);
export type TrainStopReason = z.infer<typeof TrainStopReasonSchema>;

/**
 * One training run. `data` is a paired folder (degraded/ + clean/) or a folder of clean images with a
 * synthesis preset (`synth`). `out` is a model folder path, or a name for a package in the models folder.
 * Everything else has defaults (the CLI's defaults).
 */
export const TrainParamsSchema = z
  .object({
    data: PathString,
    /** Degradation preset for clean-only folders: gaussian:<sigma>, gaussian-blind, jpeg:<q>, old-photo, … or a recipe .json. */
    synth: z.string().min(1).optional(),
    arch: ArchitectureIdSchema,
    /** Architecture hyper-parameters by the zoo's keys (e.g. {depth: 17, filters: 64}); the rest default. */
    hyper: HyperParamsSchema.default({}),
    epochs: z.number().int().positive().max(100_000).default(20),
    stepsPerEpoch: z.number().int().positive().max(1_000_000).default(200),
    batchSize: z.number().int().positive().max(1024).default(8),
    /** Training patch side in pixels. */
    patch: z.number().int().min(4).max(1024).default(64),
    lr: z.number().positive().max(10).default(1e-3),
    loss: RestoreLossSchema.default('l1'),
    schedule: LrScheduleSchema.shape.kind.default('cosine'),
    /** Linear learning-rate warm-up, in steps. */
    warmup: z.number().int().nonnegative().default(0),
    /** Step schedule: multiply the rate by `gamma` every `stepEpochs` epochs. */
    stepEpochs: z.number().int().positive().optional(),
    gamma: z.number().positive().max(1).optional(),
    minLr: z.number().nonnegative().optional(),
    /** Early stopping: epochs without a validation improvement of `minDelta` before stopping; null = off. */
    patience: z.number().int().positive().nullable().default(null),
    minDelta: z.number().nonnegative().default(0.01),
    seed: z.number().int().min(0).max(2 ** 32 - 1).default(0),
    /** Share of the images held out for validation (by a seeded hash of the file name). */
    validationFraction: z.number().min(0).max(0.9).default(0.1),
    /** Side of the centre crop validated each epoch; default min(256, 2 × patch) (the patch for the classifier). */
    valCrop: z.number().int().min(4).max(4096).optional(),
    /** Validation images used at most (the first by name). */
    maxValImages: z.number().int().positive().max(10_000).default(32),
    /** Validation crops written as PNG samples each epoch. */
    samples: z.number().int().min(0).max(32).default(4),
    /** Patches cut from an image each time it is decoded. */
    patchesPerImage: z.number().int().positive().max(256).optional(),
    /** Conditional-GAN fine-tuning (pixel loss + adversarialWeight × adversarial loss, PatchGAN discriminator). */
    gan: z.boolean().default(false),
    adversarialWeight: z.number().nonnegative().optional(),
    /** Keras VGG16 "notop" .h5 weights loaded into the encoder of vgg16-restorer before training. */
    vgg16Weights: PathString.optional(),
    /**
     * Fine-tuning: start from this model's weights (an id in the models folder, a built-in id, or a folder)
     * instead of a fresh build. The run keeps its architecture and hyper-parameters.
     */
    initFrom: z.string().min(1).optional(),
    /** Model folder path, or a name for a package in the models folder. */
    out: z.string().min(1, 'an output model folder or name is required'),
    /** Display name of the model (default: from `out`). */
    name: z.string().min(1).max(200).optional(),
    /** Continue from the last checkpoint of the run that writes `out` (after a stop, a cancel or a crash). */
    resume: z.boolean().default(false),
    /** Replace an existing model at `out` (a fresh run refuses to otherwise). */
    overwrite: z.boolean().default(false),
    /** Models folder for name outputs (default: the data folder's models/). */
    modelsDir: PathString.optional(),
    /** Run folder for checkpoints and samples (default: <data folder>/training/<model id>-<hash of out>). */
    workDir: PathString.optional(),
    /** Where the patch sampler runs (default auto: a worker thread when possible). */
    samplerThread: z.enum(['auto', 'worker', 'main']).default('auto'),
  })
  .strict();
export type TrainParams = z.output<typeof TrainParamsSchema>;
export type TrainParamsInput = z.input<typeof TrainParamsSchema>;

export const TrainStartEventSchema = z.object({
  type: z.literal('start'),
  /** Pass to train.stop to stop the run gracefully (the model of the finished epochs is saved). */
  runId: z.string(),
  workDir: z.string(),
  /** Where the model package will be written. */
  output: z.string(),
  /** Epoch of the checkpoint the run continues from (0: a fresh start). */
  resumedFrom: z.number().int().nonnegative(),
  epochs: z.number().int().positive(),
  datasetKind: z.enum(['paired', 'clean']),
  trainImages: z.number().int().nonnegative(),
  valImages: z.number().int().nonnegative(),
  dataFingerprint: z.string(),
  backend: z.string(),
  sampler: z.enum(['worker', 'main']),
  /** Resolved hyper-parameters and the model's weight count. */
  hyper: HyperParamsSchema,
  paramCount: z.number().int().nonnegative(),
  /** Set when the encoder of vgg16-restorer got Keras VGG16 weights. */
  vgg16Layers: z.array(z.string()).optional(),
  /** Set when the run fine-tunes an installed model (its display name and folder). */
  initFrom: z.object({ name: z.string(), dir: z.string() }).optional(),
});
export type TrainStartEvent = z.infer<typeof TrainStartEventSchema>;

export const TrainBatchStreamEventSchema = TrainBatchEventSchema.extend({ type: z.literal('batch') });
export type TrainBatchStreamEvent = z.infer<typeof TrainBatchStreamEventSchema>;

export const TrainEpochStreamEventSchema = TrainEpochEventSchema.extend({
  type: z.literal('epoch'),
  /** Estimated seconds until the last epoch ends. */
  etaSeconds: z.number().nonnegative(),
});
export type TrainEpochStreamEvent = z.infer<typeof TrainEpochStreamEventSchema>;

export const TrainWarningEventSchema = z.object({ type: z.literal('warning'), message: z.string() });
export type TrainWarningEvent = z.infer<typeof TrainWarningEventSchema>;

export const TrainDoneEventSchema = z.object({
  type: z.literal('done'),
  /** Folder of the saved model package; null when nothing was saved (cancelled before an epoch finished). */
  model: z.string().nullable(),
  id: z.string().nullable(),
  status: TrainStopReasonSchema,
  epochs: z.number().int().nonnegative(),
  bestEpoch: z.number().int().positive().nullable(),
  finalMetrics: FinalMetricsSchema,
  seconds: z.number().nonnegative(),
  workDir: z.string(),
  /** Newest checkpoint (resume from it with resume: true). */
  checkpoint: z.string().nullable(),
});
export type TrainDoneEvent = z.infer<typeof TrainDoneEventSchema>;

export const TrainEventSchema = z.discriminatedUnion('type', [
  TrainStartEventSchema,
  TrainBatchStreamEventSchema,
  TrainEpochStreamEventSchema,
  TrainWarningEventSchema,
  TrainDoneEventSchema,
]);
export type TrainEvent = z.infer<typeof TrainEventSchema>;

/** The run folder's run.json: what a run is doing or how it ended (the UI offers "resume" from it). */
export const TrainRunStateSchema = z.object({
  runId: z.string(),
  state: z.enum(['running', 'completed', 'early-stopped', 'cancelled', 'failed']),
  pid: z.number().int(),
  output: z.string(),
  /** Epochs finished (checkpointed). */
  epoch: z.number().int().nonnegative(),
  epochs: z.number().int().positive(),
  /** Optimizer steps taken so far. */
  globalStep: z.number().int().nonnegative(),
  startedAt: z.string(),
  updatedAt: z.string(),
  error: z.string().nullable(),
});
export type TrainRunState = z.infer<typeof TrainRunStateSchema>;

export const TrainRunInfoInputSchema = z
  .object({ out: z.string().min(1), modelsDir: PathString.optional(), workDir: PathString.optional() })
  .strict();
export const TrainRunInfoSchema = z.object({
  workDir: z.string(),
  output: z.string(),
  /** Epoch of the newest readable checkpoint (what resume continues from), null when there is none. */
  checkpointEpoch: z.number().int().nonnegative().nullable(),
  run: TrainRunStateSchema.nullable(),
});
export type TrainRunInfo = z.infer<typeof TrainRunInfoSchema>;

// ---------------------------------------------------------------------------------------------------------
// Training speed on this machine (the wizard's time estimate)

export const TrainSpeedInputSchema = z
  .object({
    arch: ArchitectureIdSchema,
    hyper: HyperParamsSchema.default({}),
    batchSize: z.number().int().min(1).max(512),
    patch: z.number().int().min(16).max(1024),
  })
  .strict();
export type TrainSpeedInput = z.input<typeof TrainSpeedInputSchema>;

export const TrainSpeedSchema = z.object({
  /** One optimizer step (forward, backward, Adam) at the requested batch and patch size. */
  secondsPerStep: z.number().positive(),
  patchesPerSecond: z.number().positive(),
  /** Effective rate: 2 x multiply-adds x 3 (forward, input and weight gradients) per second. */
  gflops: z.number().nonnegative(),
  backend: z.string(),
  /** The batch and patch the steps were timed at (scaled by pixel count to the request when smaller). */
  measuredBatch: z.number().int().positive(),
  measuredPatch: z.number().int().positive(),
});
export type TrainSpeed = z.infer<typeof TrainSpeedSchema>;
