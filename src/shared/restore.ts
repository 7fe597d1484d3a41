// Restoring photos and triaging folders: the parameters and the events of a restore run, shared by the
// engine, the services, the CLI and the UI. Zod only.
import { z } from 'zod';

/** What restoring writes: the input's own format (where it can be written), or a conversion. The one list. */
export const OutputFormatSchema = z.enum(['keep', 'png', 'jpeg', 'webp']);
export type OutputFormatChoice = z.infer<typeof OutputFormatSchema>;
export const DEFAULT_QUALITY = 92;
export const QualitySchema = z.number().int().min(1).max(100);

/** Restore's tile edge in pixels: smaller tiles spend most of their time on the overlap. The one limit (Settings, CLI, UI). */
export const RESTORE_TILE = { min: 64, max: 8192 } as const;
export const RestoreTileSchema = z.number().int().min(RESTORE_TILE.min).max(RESTORE_TILE.max);

/**
 * The model id that runs no network: only the repair and tone stages touch the photo (studio restore
 * --stages without "model"). Every other id names a model.
 */
export const NO_MODEL = 'none';

export const RestoreParamsSchema = z
  .object({
    /** A photo or a folder of photos. */
    input: z.string().min(1),
    /** Output folder; default `<input folder>-restored` beside it. */
    out: z.string().min(1).optional(),
    /** Model id in the models folder, or a model folder, or NO_MODEL; default the bundled old-photo model. */
    model: z.string().min(1).optional(),
    recursive: z.boolean().default(false),
    format: OutputFormatSchema.default('keep'),
    quality: QualitySchema.default(DEFAULT_QUALITY),
    /** Tile edge in pixels; default chosen from available memory. */
    tile: RestoreTileSchema.optional(),
    /** Only the files that failed last time. */
    retryFailed: z.boolean().default(false),
    /** Automatic tone and colour (faded tones, low contrast, a yellowed cast) at this strength; off when absent or 0. */
    tone: z.number().min(0).max(1).optional(),
    /** Best quality: the model's self-ensemble (8 orientations averaged), at 8x the time. */
    ensemble: z.boolean().default(false),
    /** Damage repair (scratches, dust, cracks found by a detector and filled) before the model, at this strength; off when absent or 0. */
    repair: z.number().min(0).max(1).optional(),
    /** The damage detector: a model id or folder; default the bundled "damage" model. */
    repairModel: z.string().min(1).optional(),
    /**
     * The damage filler that refines the repair's interpolated holes: a model id or folder, or NO_MODEL for the
     * interpolation alone; default the bundled "fill" model when it is installed.
     */
    fillModel: z.string().min(1).optional(),
    modelsDir: z.string().min(1).optional(),
  })
  .strict();
export type RestoreParams = z.output<typeof RestoreParamsSchema>;
export type RestoreParamsInput = z.input<typeof RestoreParamsSchema>;

const FailedFileSchema = z.object({ file: z.string(), reason: z.string() });

export const RestoreEventSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('start'),
    /** Pass to restore.pause / restore.resume. */
    runId: z.string(),
    /** Absolute input folder (file paths in later events are relative to it) and output folder. */
    inputRoot: z.string(),
    out: z.string(),
    found: z.number().int().nonnegative(),
    toDo: z.number().int().nonnegative(),
    skipped: z.number().int().nonnegative(),
    megapixelsTotal: z.number().nonnegative(),
    tile: z.number().int().positive(),
    /** The model's id and its display name. */
    model: z.string(),
    modelName: z.string().optional(),
    /** Output pixels per input pixel along each axis (an upscaler's 2, 4 ...); absent means 1. */
    scale: z.number().int().positive().optional(),
    /** Seconds the batch should take (the model timed on this machine before the first file); null when unknown. */
    estimatedSeconds: z.number().nonnegative().nullable().optional(),
    /** The most memory the engine should hold while it restores a photo of the batch (itself included), in MB (said up front). */
    memoryMegabytes: z.number().nonnegative().optional(),
  }),
  z.object({
    type: z.literal('progress'),
    phase: z.enum(['restoring', 'paused']),
    index: z.number().int().nonnegative(),
    total: z.number().int().nonnegative(),
    file: z.string(),
    fileFraction: z.number().min(0).max(1),
    done: z.number().int().nonnegative(),
    skipped: z.number().int().nonnegative(),
    failed: z.number().int().nonnegative(),
    megapixelsDone: z.number().nonnegative(),
    megapixelsTotal: z.number().nonnegative(),
    megapixelsPerSecond: z.number().nonnegative(),
    etaSeconds: z.number().nonnegative().nullable(),
    tile: z.number().int().positive(),
  }),
  z.object({
    type: z.literal('file'),
    status: z.enum(['done', 'skipped', 'failed']),
    /** Relative to the input folder. */
    file: z.string(),
    /** Absolute output path (done, and skipped when the output exists). */
    output: z.string().nullable(),
    reason: z.string().nullable(),
    /** Restored files: their size, time, the tile used after any out-of-memory retries, and what was kept or changed. */
    megapixels: z.number().nonnegative().optional(),
    seconds: z.number().nonnegative().optional(),
    tile: z.number().int().positive().optional(),
    retries: z.number().int().nonnegative().optional(),
    notes: z.array(z.string()).optional(),
    /** With repair on: the absolute path of the damage mask it filled (a red-on-transparent PNG, the input's size). */
    mask: z.string().optional(),
  }),
  z.object({
    type: z.literal('done'),
    done: z.number().int().nonnegative(),
    skipped: z.number().int().nonnegative(),
    failed: z.array(FailedFileSchema),
    out: z.string(),
    megapixelsPerSecond: z.number().nonnegative(),
    cancelled: z.boolean(),
    seconds: z.number().nonnegative(),
  }),
]);
export type RestoreEvent = z.infer<typeof RestoreEventSchema>;

export const TriageParamsSchema = z
  .object({ dir: z.string().min(1), recursive: z.boolean().default(false), classifier: z.string().min(1).optional(), modelsDir: z.string().min(1).optional() })
  .strict();
export const TriageResultSchema = z.object({
  /** Most damaged first; score = probability the photo is degraded. */
  scores: z.array(z.object({ file: z.string(), score: z.number().min(0).max(1) })),
  failed: z.array(FailedFileSchema),
  /** True when the scores are calibrated probabilities (the classifier's card has a calibration). */
  calibrated: z.boolean().default(false),
});
export type TriageResult = z.infer<typeof TriageResultSchema>;

export const TriageEventSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('progress'), index: z.number().int().positive(), total: z.number().int().nonnegative(), file: z.string() }),
  /** classifier: the name of the model that scored. */
  z.object({ type: z.literal('done'), classifier: z.string(), result: TriageResultSchema }),
]);
export type TriageEvent = z.infer<typeof TriageEventSchema>;
