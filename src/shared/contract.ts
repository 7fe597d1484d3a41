// The studio's one typed contract between the UI (renderer) and the services (main process, or the
// browser-mode server). Every method's input and output, every event's params and data, as zod schemas.
import { z } from 'zod';
import { defineContract } from './rpc/protocol';
import { BackendNameSchema, BackendPreferenceSchema, BackendStatusSchema } from './engine-types';
import { DatasetReportSchema, SynthPreviewInputSchema, SynthPreviewSchema, type SynthPreview } from './dataset';
import { LayerSummarySchema, ModelCardSchema, HyperParamsSchema, ArchitectureIdSchema } from './model-card';
import {
  TrainEventSchema,
  TrainParamsSchema,
  TrainRunInfoInputSchema,
  TrainRunInfoSchema,
  TrainSpeedInputSchema,
  TrainSpeedSchema,
} from './training';
import { EvaluateEventSchema, EvaluateParamsSchema } from './evaluation';
import {
  ArchitectureSummarySchema,
  ModelDetailsSchema,
  ModelExportResultSchema,
  ModelImportResultSchema,
  ModelLicenseSchema,
  ModelsListOutputSchema,
} from './model-library';
import {
  DEFAULT_QUALITY,
  OutputFormatSchema,
  QualitySchema,
  RESTORE_TILE,
  RestoreEventSchema,
  RestoreParamsSchema,
  RestoreTileSchema,
  TriageResultSchema,
} from './restore';
import { QueueAddResultSchema, QueueSendParamsSchema, QueueStatusSchema } from './queue';

export const AppModeSchema = z.enum(['electron', 'browser', 'cli']);

export const AppInfoSchema = BackendStatusSchema.extend({
  version: z.string(),
  mode: AppModeSchema,
  platform: z.string(),
  dataDir: z.string(),
  modelsDir: z.string(),
});
export type AppInfo = z.infer<typeof AppInfoSchema>;

export const SettingsSchema = z.object({
  backend: BackendPreferenceSchema.default('auto'),
  /** 0 lets the engine choose. */
  threads: z.number().int().min(0).max(64).default(0),
  /** Tile edge in pixels for restoring large photos; 0 chooses from available memory. Restore takes 64 to 8192. */
  tileSize: z
    .number()
    .int()
    .refine((v) => v === 0 || RestoreTileSchema.safeParse(v).success, { message: `A tile is 0 (automatic) or ${RESTORE_TILE.min} to ${RESTORE_TILE.max} pixels` })
    .default(0),
  outputFormat: OutputFormatSchema.default('keep'),
  quality: QualitySchema.default(DEFAULT_QUALITY),
  /** null: the default folder inside the app's data folder. */
  modelsDir: z.string().min(1).nullable().default(null),
  theme: z.enum(['system', 'light', 'dark']).default('system'),
  /** The Redis of a restore queue shared by many machines (`studio worker`); null: none set. */
  redisUrl: z
    .string()
    .trim()
    .regex(/^rediss?:\/\/[^\s/]+/, { message: 'A Redis URL starts with redis:// or rediss:// and names a host, e.g. redis://localhost:6379' })
    .nullable()
    .default(null),
});
export type Settings = z.infer<typeof SettingsSchema>;
/**
 * A change to some settings. Built from the fields without their defaults: zod applies a default inside
 * `.optional()`, so `SettingsSchema.partial()` would turn `{ theme }` into every other setting's default and
 * each save would reset the rest.
 */
export const SettingsPatchSchema = z
  .object(
    Object.fromEntries(Object.entries(SettingsSchema.shape).map(([key, field]) => [key, field.unwrap().optional()])) as {
      [K in keyof typeof SettingsSchema.shape]: z.ZodOptional<ReturnType<(typeof SettingsSchema.shape)[K]['unwrap']>>;
    },
  )
  .strict();

export const FileEntrySchema = z.object({
  name: z.string(),
  path: z.string(),
  kind: z.enum(['dir', 'image', 'file']),
  size: z.number().nonnegative(),
});
export type FileEntry = z.infer<typeof FileEntrySchema>;

export const FolderListingSchema = z.object({
  dir: z.string(),
  parent: z.string().nullable(),
  entries: z.array(FileEntrySchema),
});
export type FolderListing = z.infer<typeof FolderListingSchema>;

export const JobStateSchema = z.enum(['queued', 'running', 'paused', 'done', 'failed', 'cancelled']);
export const JobSchema = z.object({
  id: z.string(),
  kind: z.string(),
  title: z.string(),
  state: JobStateSchema,
  /** 0..1, or null when unknown. */
  progress: z.number().min(0).max(1).nullable(),
  message: z.string().default(''),
  error: z.object({ code: z.string(), message: z.string() }).nullable().default(null),
  startedAt: z.string(),
  endedAt: z.string().nullable().default(null),
});
export type Job = z.infer<typeof JobSchema>;

export const EngineStateSchema = z.object({
  state: z.enum(['stopped', 'starting', 'ready', 'crashed']),
  backend: BackendNameSchema.nullable(),
  message: z.string(),
});
export type EngineState = z.infer<typeof EngineStateSchema>;

/** Commands from the desktop shell (menu, second launch, dock drop) to the UI. */
export const AppCommandSchema = z.discriminatedUnion('command', [
  z.object({ command: z.literal('open-folder') }),
  z.object({ command: z.literal('open-paths'), paths: z.array(z.string()).min(1) }),
  z.object({ command: z.literal('navigate'), view: z.enum(['restore', 'compare', 'train', 'models', 'settings']) }),
]);
export type AppCommand = z.infer<typeof AppCommandSchema>;

const Empty = z.object({}).strict();
const ModelId = z.object({ id: z.string().min(1) }).strict();
const JobRef = z.object({ jobId: z.string().min(1) }).strict();

export { SynthPreviewSchema, type SynthPreview };

/** A dropped file left out, and why (a sentence naming it). */
export const DropRejectionSchema = z.object({ file: z.string(), reason: z.string() });
export type DropRejection = z.infer<typeof DropRejectionSchema>;

export const studioContract = defineContract({
  methods: {
    'app.info': { input: Empty, output: AppInfoSchema },
    'settings.get': { input: Empty, output: SettingsSchema },
    'settings.update': { input: SettingsPatchSchema, output: SettingsSchema },
    /** Lists a folder for the in-app folder browser (browser mode), images marked. */
    'files.list': { input: z.object({ dir: z.string().min(1).optional() }).strict(), output: FolderListingSchema },
    /** Native folder dialog in Electron; null where there is none (browser mode uses files.list). */
    'folders.pick': { input: Empty, output: z.string().nullable() },
    /**
     * Grants the image route access to a folder the user opened. preview: the folder browser showing its
     * thumbnails, so the folder is not recorded as a recent one.
     */
    'folders.open': { input: z.object({ dir: z.string().min(1), preview: z.boolean().optional() }).strict(), output: z.object({ dir: z.string() }) },
    /** Folders opened lately, most recent first (File › Open Recent, and the folder browser's list). */
    'folders.recent': { input: Empty, output: z.array(z.string()) },
    /** Shows a folder in the system's file manager (Electron); opened is false where there is none (browser mode). */
    'folders.reveal': { input: z.object({ dir: z.string().min(1) }).strict(), output: z.object({ opened: z.boolean() }) },
    /** Stops the engine so the next request starts a fresh one (a new thread count applies); refused while a job runs. */
    'engine.restart': { input: Empty, output: z.object({ restarted: z.boolean() }) },
    /**
     * Photos dropped on the Restore view (Electron: their paths) copied into a new <dataDir>/dropped/<stamp>
     * folder; one dropped folder comes back as is. dir is null when nothing could be imported.
     */
    'files.importDropped': {
      input: z.object({ paths: z.array(z.string()).min(1).max(100_000) }).strict(),
      output: z.object({ dir: z.string().nullable(), imported: z.array(z.string()), rejected: z.array(DropRejectionSchema) }),
    },
    /** Browser mode's drop: checks the names and creates the folder that POST /upload?batch=<batch> fills. */
    'files.newDropFolder': {
      input: z.object({ names: z.array(z.string()).min(1).max(100_000) }).strict(),
      output: z.object({ dir: z.string().nullable(), batch: z.string().nullable(), rejected: z.array(DropRejectionSchema) }),
    },
    'jobs.list': { input: Empty, output: z.array(JobSchema) },
    'jobs.cancel': { input: JobRef, output: JobSchema },

    // Models (the models folder from Settings)
    'models.architectures': { input: Empty, output: z.array(ArchitectureSummarySchema) },
    /** Layers of an architecture (with hyper-parameters) or of an installed model, for the layer diagram. */
    'models.layers': {
      input: z.union([z.object({ arch: ArchitectureIdSchema, hyper: HyperParamsSchema.default({}) }).strict(), ModelId]),
      output: z.array(LayerSummarySchema),
    },
    'models.list': { input: Empty, output: ModelsListOutputSchema },
    'models.show': { input: ModelId, output: ModelDetailsSchema },
    'models.import': { input: z.object({ source: z.string().min(1), name: z.string().min(1).max(200).optional() }).strict(), output: ModelImportResultSchema },
    'models.export': { input: z.object({ id: z.string().min(1), out: z.string().min(1) }).strict(), output: ModelExportResultSchema },
    'models.delete': { input: ModelId, output: z.object({ id: z.string(), path: z.string() }) },
    // Also sets the card's licence when `license` is given (the Models view's licence field).
    'models.rename': {
      input: z.object({ id: z.string().min(1), name: z.string().trim().min(1).max(200), license: ModelLicenseSchema.optional() }).strict(),
      output: ModelCardSchema,
    },

    // Datasets
    'dataset.check': { input: z.object({ dir: z.string().min(1) }).strict(), output: DatasetReportSchema },
    /** A degraded sample of a photo from a clean folder, for the wizard's live preview of a preset. */
    'synth.preview': { input: SynthPreviewInputSchema, output: SynthPreviewSchema },

    // Training and evaluation jobs: start returns the job; its events stream on train.events / evaluate.events.
    'train.start': { input: TrainParamsSchema, output: JobSchema },
    /** Stops a training job gracefully: the model of the finished epochs is saved. */
    'train.stop': { input: JobRef, output: z.object({ stopping: z.boolean() }) },
    'train.runInfo': { input: TrainRunInfoInputSchema, output: TrainRunInfoSchema },
    /** Times a few training steps of an architecture on this machine (the wizard's time estimate). */
    'train.measureSpeed': { input: TrainSpeedInputSchema, output: TrainSpeedSchema },
    'evaluate.start': { input: EvaluateParamsSchema, output: JobSchema },

    // Restoring: start returns the job; restore.events streams its progress and every file.
    'restore.start': { input: RestoreParamsSchema, output: JobSchema },
    'restore.pause': { input: JobRef, output: z.object({ paused: z.boolean() }) },
    'restore.resume': { input: JobRef, output: z.object({ paused: z.boolean() }) },
    /** How damaged each photo of a folder looks (0 clean … 1 damaged), most damaged first. */
    'triage.run': { input: z.object({ dir: z.string().min(1), recursive: z.boolean().default(false) }).strict(), output: TriageResultSchema },

    // The Redis restore queue (Settings' Redis URL): send the opened folder, read the cluster's progress.
    'queue.send': { input: QueueSendParamsSchema, output: QueueAddResultSchema },
    'queue.status': { input: Empty, output: QueueStatusSchema },
  },
  events: {
    /** Every change of any job (or of one job when jobId is given). */
    'jobs.update': { params: z.object({ jobId: z.string().optional() }).strict(), data: JobSchema },
    'engine.state': { params: Empty, data: EngineStateSchema },
    'app.command': { params: Empty, data: AppCommandSchema },
    /** A training job's events from its start (replayed), then live, until it ends. */
    'train.events': { params: JobRef, data: TrainEventSchema },
    'evaluate.events': { params: JobRef, data: EvaluateEventSchema },
    'restore.events': { params: JobRef, data: RestoreEventSchema },
  },
});

export type StudioContract = typeof studioContract;
