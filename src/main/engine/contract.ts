// The contract between the main process and the engine process. Same protocol as the UI's.
import { z } from 'zod';
import { defineContract } from '#shared/rpc/protocol';
import { BackendPreferenceSchema, BackendStatusSchema } from '#shared/engine-types';
import { ArchitectureIdSchema, HyperParamsSchema, LayerSummarySchema, ModelCardSchema } from '#shared/model-card';
import {
  TrainEventSchema,
  TrainParamsSchema,
  TrainRunInfoInputSchema,
  TrainRunInfoSchema,
  TrainSpeedInputSchema,
  TrainSpeedSchema,
} from '#shared/training';
import { EvaluateEventSchema, EvaluateParamsSchema } from '#shared/evaluation';
import {
  ArchitectureSummarySchema,
  ModelDetailsSchema,
  ModelExportInputSchema,
  ModelExportResultSchema,
  ModelImportInputSchema,
  ModelImportResultSchema,
  ModelRefInputSchema,
  ModelRenameInputSchema,
  ModelsListInputSchema,
  ModelsListOutputSchema,
} from '#shared/model-library';
import { RestoreEventSchema, RestoreParamsSchema, TriageEventSchema, TriageParamsSchema } from '#shared/restore';
import { QueueAddParamsSchema, QueueAddResultSchema, QueueStatusSchema } from '#shared/queue';
import {
  DatasetCheckEventSchema,
  DatasetCheckParamsSchema,
  DatasetSplitParamsSchema,
  SplitReportSchema,
  SynthEventSchema,
  SynthPreviewInputSchema,
  SynthPreviewSchema,
  SynthRunParamsSchema,
} from '#shared/dataset';

const Empty = z.object({}).strict();
const RunRef = z.object({ runId: z.string().min(1) }).strict();

export const engineContract = defineContract({
  methods: {
    'engine.info': { input: Empty, output: BackendStatusSchema.extend({ pid: z.number().int() }) },
    'engine.setBackend': { input: z.object({ preference: BackendPreferenceSchema }).strict(), output: BackendStatusSchema },
    /** Test hook: exits the process mid-request. Enabled only when STUDIO_TEST=1. */
    'engine.crashForTest': { input: Empty, output: z.null() },
    /** Test hook: resolves after ms unless cancelled. Enabled only when STUDIO_TEST=1. */
    'engine.sleepForTest': { input: z.object({ ms: z.number().int().min(0).max(60_000) }).strict(), output: z.null() },

    /** Stops a train.run stream gracefully (within one batch): the finished epochs' model is saved and `done` is sent. */
    'train.stop': { input: z.object({ runId: z.string().min(1) }).strict(), output: z.object({ stopping: z.boolean() }) },
    /** What resuming the run that writes `out` would continue from (checkpoint epoch) and its run.json. */
    'train.runInfo': { input: TrainRunInfoInputSchema, output: TrainRunInfoSchema },
    /** Times a few training steps of an architecture here, for the wizard's time estimate. */
    'train.measureSpeed': { input: TrainSpeedInputSchema, output: TrainSpeedSchema },

    /** The model zoo with parameter counts and multiply-adds per pixel at the defaults. */
    'models.architectures': { input: Empty, output: z.array(ArchitectureSummarySchema) },
    /** Layers of an architecture (with hyper-parameters) or of an installed model (id or folder), for the layer diagram. */
    'models.layers': {
      input: z.union([
        z.object({ arch: ArchitectureIdSchema, hyper: HyperParamsSchema.default({}) }).strict(),
        z.object({ id: z.string().min(1), modelsDir: z.string().min(1).optional() }).strict(),
      ]),
      output: z.array(LayerSummarySchema),
    },
    'models.list': { input: ModelsListInputSchema, output: ModelsListOutputSchema },
    /** A package's card and files, after checking that it loads (MODEL_INVALID otherwise). */
    'models.show': { input: ModelRefInputSchema, output: ModelDetailsSchema },
    /** Imports a package zip, a model folder (package or tfjs layers) or a Keras .h5 file. */
    'models.import': { input: ModelImportInputSchema, output: ModelImportResultSchema },
    'models.export': { input: ModelExportInputSchema, output: ModelExportResultSchema },
    'models.delete': { input: ModelRefInputSchema, output: z.object({ id: z.string(), path: z.string() }) },
    'models.rename': { input: ModelRenameInputSchema, output: ModelCardSchema },

    /** Pause and resume a restore.run stream between tiles (cancel = unsubscribe). */
    'restore.pause': { input: RunRef, output: z.object({ paused: z.boolean() }) },
    'restore.resume': { input: RunRef, output: z.object({ paused: z.boolean() }) },
    /** Stops a restore.run stream between tiles and still sends its `done` summary (cancelled: true); a rerun resumes. */
    'restore.stop': { input: RunRef, output: z.object({ stopping: z.boolean() }) },

    /** The deterministic train/validation split of a dataset folder. */
    'dataset.split': { input: DatasetSplitParamsSchema, output: SplitReportSchema },
    /** A crop of one photo of a clean folder and the same crop degraded by a preset, written as PNGs. */
    'synth.preview': { input: SynthPreviewInputSchema, output: SynthPreviewSchema },
    /** Puts a folder's photos on the Redis queue (the model is loaded once to pin its fingerprint). */
    'queue.add': { input: QueueAddParamsSchema, output: QueueAddResultSchema },
    'queue.status': { input: z.object({ redis: z.string().min(1) }).strict(), output: QueueStatusSchema },
  },
  events: {
    /**
     * Trains a model: start, batch…, epoch…, done (warning events in between). Unsubscribing cancels within
     * one batch (the checkpoint stays for resume); train.stop stops gracefully and saves the model.
     */
    'train.run': { params: TrainParamsSchema, data: TrainEventSchema },
    /** Evaluates a model on a dataset: start, image… (skipped…), done with the means. Unsubscribing cancels. */
    'evaluate.run': { params: EvaluateParamsSchema, data: EvaluateEventSchema },
    /** Restores a photo or a folder: start, progress…, file…, done. Unsubscribing cancels (a rerun resumes). */
    'restore.run': { params: RestoreParamsSchema, data: RestoreEventSchema },
    /** Scores how damaged each photo of a folder looks, with the clean-vs-degraded classifier: progress…, done. */
    'triage.run': { params: TriageParamsSchema, data: TriageEventSchema },
    /** Decodes and hashes every file of a dataset folder: progress…, done with the report. Unsubscribing cancels. */
    'dataset.check': { params: DatasetCheckParamsSchema, data: DatasetCheckEventSchema },
    /** Degrades a folder of clean photos into a paired dataset: skipped…, progress…, done with the report. */
    'synth.run': { params: SynthRunParamsSchema, data: SynthEventSchema },
  },
});

export type EngineContract = typeof engineContract;
