// Model cards: what a model package says about itself (card.json), plus the architecture descriptions and
// training records the UI shows. Zod schemas are the single source of truth; types are inferred from them.
// This file imports only zod so the renderer can use it.
import { z } from 'zod';

/** The card format this version writes and reads. Packages with another version are refused with MODEL_INVALID. */
export const MODEL_CARD_FORMAT_VERSION = 1;

/** Ids of the built-in architectures (the model zoo). */
export const ArchitectureIdSchema = z.enum([
  'classifier',
  'autoencoder',
  'esrcnn',
  'ddsrcnn',
  'vgg16-restorer',
  'dncnn',
  'ffdnet',
  'unet',
  'nafnet-tiny',
  'damage-unet',
  'fill-unet',
]);
export type ArchitectureId = z.infer<typeof ArchitectureIdSchema>;

/**
 * restore: photo in, photo out; classify: a damage score; detect: a per-pixel damage map (see data/target);
 * fill: photo + damage mask in, the photo with the masked pixels filled out.
 */
export const ModelTaskSchema = z.enum(['restore', 'classify', 'detect', 'fill']);
export type ModelTask = z.infer<typeof ModelTaskSchema>;

export const HyperValueSchema = z.union([z.number(), z.string(), z.boolean()]);
export type HyperValue = z.infer<typeof HyperValueSchema>;

/** Hyper-parameter values by key (all keys present once resolved against the defaults). */
export const HyperParamsSchema = z.record(z.string(), HyperValueSchema);
export type HyperParams = z.infer<typeof HyperParamsSchema>;

/** One tunable hyper-parameter of an architecture, as the UI shows it. */
export const HyperParamSpecSchema = z.object({
  key: z.string(),
  label: z.string(),
  description: z.string(),
  type: z.enum(['int', 'number', 'enum', 'boolean']),
  default: HyperValueSchema,
  min: z.number().optional(),
  max: z.number().optional(),
  /** Allowed values for type 'enum'. */
  options: z.array(z.string()).optional(),
});
export type HyperParamSpec = z.infer<typeof HyperParamSpecSchema>;

/** A zoo entry as listed to the UI (no functions). */
export const ArchitectureInfoSchema = z.object({
  id: ArchitectureIdSchema,
  name: z.string(),
  description: z.string(),
  task: ModelTaskSchema,
  hyperParams: z.array(HyperParamSpecSchema),
  /** True when the model pads its input internally and so accepts any height and width. */
  padsInternally: z.boolean(),
});
export type ArchitectureInfo = z.infer<typeof ArchitectureInfoSchema>;

/** One finished epoch of training. Times in seconds; metrics on the fixed validation crops. */
export const EpochRecordSchema = z.object({
  epoch: z.number().int().positive(),
  /** Mean training loss over the epoch's batches. */
  loss: z.number(),
  valLoss: z.number().nullable(),
  /** dB on 8-bit quantised output, capped at 100 for identical images; null for the classifier. */
  valPsnr: z.number().nullable(),
  valSsim: z.number().nullable(),
  /** Classifier only: share of validation patches classified right. */
  valAccuracy: z.number().nullable().optional(),
  /** Learning rate at the epoch's last step. */
  lr: z.number(),
  patchesPerSecond: z.number().nonnegative(),
  /** Training time since the run began (across resumes), at the end of this epoch. */
  elapsed: z.number().nonnegative(),
});
export type EpochRecord = z.infer<typeof EpochRecordSchema>;

/** Emitted after every training batch. */
export const TrainBatchEventSchema = z.object({
  epoch: z.number().int().positive(),
  /** 1-based step within the epoch. */
  step: z.number().int().positive(),
  stepsPerEpoch: z.number().int().positive(),
  /** 1-based step over the whole run (across resumes). */
  globalStep: z.number().int().positive(),
  loss: z.number(),
  /** Classifier only: share of the batch's patches classified right. */
  accuracy: z.number().nullable().optional(),
  lr: z.number(),
  patchesPerSecond: z.number().nonnegative(),
  /** Estimated seconds until the last epoch ends (validation time included from the previous epochs). */
  etaSeconds: z.number().nonnegative(),
});
export type TrainBatchEvent = z.infer<typeof TrainBatchEventSchema>;

/** Emitted after every epoch, once validation, samples and the checkpoint are written. */
export const TrainEpochEventSchema = EpochRecordSchema.extend({
  epochs: z.number().int().positive(),
  /** PNG files of the fixed validation crops: degraded / restored / clean (restorers only). */
  samples: z.array(z.object({ degraded: z.string(), restored: z.string(), clean: z.string() })),
  checkpoint: z.string().nullable(),
  /** True when this epoch has the best validation PSNR so far. */
  best: z.boolean(),
});
export type TrainEpochEvent = z.infer<typeof TrainEpochEventSchema>;

/** Losses for restorers; the classifier always trains with binary cross-entropy. */
/** dice-bce is for detectors: cross-entropy plus soft Dice, which keeps a rare class (damage) from being ignored. */
export const RestoreLossSchema = z.enum(['mse', 'l1', 'charbonnier', 'ssim-mix', 'dice-bce']);
export type RestoreLoss = z.infer<typeof RestoreLossSchema>;

export const LrScheduleSchema = z.object({
  /** constant; step: multiply by gamma every `stepEpochs` epochs; cosine: anneal to minLearningRate at the end. */
  kind: z.enum(['constant', 'step', 'cosine']).default('cosine'),
  /** Linear warm-up from ~0 to the learning rate over this many steps. */
  warmupSteps: z.number().int().nonnegative().default(0),
  stepEpochs: z.number().int().positive().default(10),
  gamma: z.number().positive().max(1).default(0.5),
  minLearningRate: z.number().nonnegative().default(1e-6),
});
export type LrSchedule = z.infer<typeof LrScheduleSchema>;

/** Everything that defines a training run (stored in checkpoints and in the model card). */
export const TrainRecipeSchema = z.object({
  architecture: ArchitectureIdSchema,
  hyper: z.record(z.string(), HyperValueSchema).default({}),
  loss: RestoreLossSchema.default('l1'),
  /** Weight of (1 - SSIM) in the ssim-mix loss; the rest goes to L1 (0.84 after Zhao et al.). */
  ssimMixAlpha: z.number().min(0).max(1).default(0.84),
  charbonnierEpsilon: z.number().positive().default(1e-3),
  optimizer: z
    .object({
      learningRate: z.number().positive().default(1e-3),
      beta1: z.number().min(0).max(1).default(0.9),
      beta2: z.number().min(0).max(1).default(0.999),
      epsilon: z.number().positive().default(1e-7),
    })
    .prefault({}),
  schedule: LrScheduleSchema.prefault({}),
  epochs: z.number().int().positive().default(20),
  stepsPerEpoch: z.number().int().positive().default(200),
  batchSize: z.number().int().positive().default(8),
  patchSize: z.number().int().positive().default(64),
  /** Stop when validation PSNR (classifier: validation loss) has not improved by minDelta for `patience` epochs. */
  earlyStopping: z
    .object({ patience: z.number().int().positive().default(5), minDelta: z.number().nonnegative().default(0.01) })
    .nullable()
    .default(null),
  /** Put the weights of the best validation epoch back into the model at the end. */
  restoreBest: z.boolean().default(true),
  /** Validation crops written as PNG samples each epoch. */
  sampleCount: z.number().int().nonnegative().max(32).default(4),
  /** Conditional-GAN fine-tuning: pixel loss + adversarialWeight x adversarial loss from a small PatchGAN. */
  gan: z
    .object({
      enabled: z.boolean().default(false),
      adversarialWeight: z.number().nonnegative().default(0.005),
      discriminatorFilters: z.number().int().positive().default(32),
      discriminatorLearningRate: z.number().positive().default(1e-4),
    })
    .prefault({}),
});
export type TrainRecipe = z.infer<typeof TrainRecipeSchema>;
export type TrainRecipeInput = z.input<typeof TrainRecipeSchema>;

export const FinalMetricsSchema = z.object({
  psnr: z.number().nullable(),
  ssim: z.number().nullable(),
  loss: z.number().nullable(),
  accuracy: z.number().nullable().optional(),
});
export type FinalMetrics = z.infer<typeof FinalMetricsSchema>;

/** Package ids double as folder names: lower-case letters, digits, dashes and underscores. */
export const PackageIdSchema = z
  .string()
  .min(1)
  .max(80)
  .regex(/^[a-z0-9][a-z0-9_-]*$/, 'use lower-case letters, digits, "-" and "_" (starting with a letter or digit)');

/** One held-out score of a model (what `npm run bench:quality` prints), next to its degraded input. */
export const HeldOutScoreSchema = z.object({
  /** The folder's name (e.g. "Kodak24"), never a training folder. */
  data: z.string(),
  synth: z.string(),
  seed: z.number().int(),
  images: z.number().int().nonnegative(),
  psnr: z.number(),
  ssim: z.number(),
  inputPsnr: z.number(),
  inputSsim: z.number(),
});
export type HeldOutScore = z.infer<typeof HeldOutScoreSchema>;

/** How a bundled model was made, so anyone can make it again. */
export const ModelProvenanceSchema = z.object({
  /** The commands that reproduce it, in order, run from the repository root. */
  commands: z.array(z.string()).min(1),
  /** The machine it was trained on (CPU, cores, backend and threads). */
  machine: z.string(),
  /** Wall-clock time of the training command(s), in seconds. */
  trainingSeconds: z.number().nonnegative(),
  evaluations: z.array(HeldOutScoreSchema),
  /** What limited it and what would improve it. */
  notes: z.string().optional(),
});
export type ModelProvenance = z.infer<typeof ModelProvenanceSchema>;

/** Classifiers: how the raw score becomes a probability, p = sigmoid(a · logit(raw) + b) (Platt scaling). */
export const ClassifierCalibrationSchema = z.object({
  method: z.literal('platt'),
  a: z.number(),
  b: z.number(),
  /** What it was fitted on, in words (held-out photos and the syntheses they went through). */
  fittedOn: z.string(),
  samples: z.number().int().positive(),
});
export type ClassifierCalibration = z.infer<typeof ClassifierCalibrationSchema>;

export const ModelCardSchema = z.object({
  formatVersion: z.literal(MODEL_CARD_FORMAT_VERSION),
  id: PackageIdSchema,
  name: z.string().min(1).max(200),
  task: ModelTaskSchema,
  architecture: z.object({
    /** A zoo id, or 'external' for imported models of unknown structure. */
    id: z.string().min(1),
    hyper: HyperParamsSchema,
    /** Image channels in and out (3 for RGB). */
    channels: z.number().int().positive(),
    /** Input height/width multiple the network computes at (the tiler prefers tiles of this multiple). */
    requiredMultiple: z.number().int().positive(),
    /** True when the network pads internally and accepts any size; false means the caller pads. */
    padsInternally: z.boolean(),
  }),
  /** What it restores: a preset name from the data pipeline (e.g. "jpeg", "noise") and/or free text. */
  restores: z.object({ preset: z.string().nullable(), description: z.string() }),
  training: z
    .object({
      /** Fingerprint of the training data (the data pipeline's hash of files and recipe). */
      dataFingerprint: z.string().nullable(),
      /** The training configuration (loss, optimiser, schedule, epochs, batch and patch size ...). */
      recipe: z.record(z.string(), z.unknown()).nullable(),
      history: z.array(EpochRecordSchema),
      finalMetrics: FinalMetricsSchema.nullable(),
      /** Backend the model was trained on (tensorflow / wasm / cpu). */
      backend: z.string().nullable(),
      /** Training time in seconds. */
      seconds: z.number().nonnegative().nullable(),
      stopReason: z.enum(['completed', 'early-stopped', 'cancelled']).nullable().optional(),
    })
    .nullable(),
  createdAt: z.iso.datetime(),
  /** Number of weights (trainable and not). */
  params: z.number().int().nonnegative(),
  /** Multiply-adds per input pixel (conv and dense layers), for speed estimates; null when unknown. */
  macsPerPixel: z.number().nonnegative().nullable(),
  /** Output is scale x the input in each direction (an upscaler); default 1. */
  scale: z.number().int().min(1).max(16).optional(),
  source: z.enum(['trained', 'imported-tfjs', 'imported-keras', 'imported-pytorch', 'untrained']),
  /** Models converted from a community weights file (.pth / .safetensors): where they came from. */
  imported: z
    .object({
      format: z.enum(['pth', 'safetensors']),
      /** The file's base name. */
      file: z.string(),
      sha256: z.string().regex(/^[0-9a-f]{64}$/),
      /** The architecture detected from the keys, e.g. "esrgan", "compact". */
      architecture: z.string(),
      scale: z.number().int().min(1).max(16),
    })
    .optional(),
  /** The licence the model was published under, as the user filled it in (null: not known). */
  license: z.string().max(500).nullable().optional(),
  /** Bundled models: the commands, machine, time and held-out scores they were made with. */
  provenance: ModelProvenanceSchema.optional(),
  calibration: ClassifierCalibrationSchema.optional(),
});
export type ModelCard = z.infer<typeof ModelCardSchema>;

/** A row of a models-directory listing. A broken package is listed with its error rather than hidden. */
export const PackageListingSchema = z.object({
  id: z.string(),
  dir: z.string(),
  card: ModelCardSchema.nullable(),
  error: z.string().nullable(),
});
export type PackageListing = z.infer<typeof PackageListingSchema>;

/** One layer of a model, for the layer diagram and summary (as Keras' model.summary() and plot_model show). */
export const LayerSummarySchema = z.object({
  name: z.string(),
  className: z.string(),
  /** Output shape without the batch dimension; null where a dimension is free. */
  outputShape: z.array(z.number().nullable()),
  params: z.number().int().nonnegative(),
  /** Names of the layers feeding this one (more than one for Add, Concatenate, Average). */
  inputs: z.array(z.string()),
});
export type LayerSummary = z.infer<typeof LayerSummarySchema>;
