// The engine process's request handlers and event sources. Runs wherever the engine runs: its own process
// (app, browser mode) or in-process (CLI). Never imports electron.
import { randomUUID } from 'node:crypto';
import { StudioError } from '#shared/rpc/errors';
import { streamTask, type EventSources, type Handlers } from '#shared/rpc/server';
import type { TrainEvent, TrainParams } from '#shared/training';
import type { EvaluateEvent, EvaluateParams } from '#shared/evaluation';
import { backendStatus, initBackend } from './backend';
import type { EngineContract } from './contract';
import { measureTrainSpeed } from './train/speed';
import type { RestoreEvent, RestoreParams, TriageEvent } from '#shared/restore';
import type { DatasetCheckEvent, DatasetCheckParams, SynthEvent, SynthRunParams } from '#shared/dataset';
import { restoreJob, restoreRun, triageJob } from './methods/restore';
import { datasetCheckJob, datasetSplit, synthJob, synthPreviewJob } from './methods/dataset';
import { queueAdd, queueStatusAt } from './methods/queue';
import {
  architectureSummaries,
  deleteModel,
  exportModel,
  importModel,
  listModels,
  modelLayers,
  renameModel,
  runEvaluateJob,
  runTrainJob,
  showModel,
  trainRunInfo,
} from './methods/index';

const testHooksEnabled = (): boolean => process.env.STUDIO_TEST === '1';

// The backend is process-wide (tfjs has one engine), so the state that tracks it is too.
let ready: ReturnType<typeof initBackend> | null = null;

/** Chooses the backend lazily, once, on the first request that needs it; a failed start is retried. */
async function ensureBackend(): Promise<Awaited<ReturnType<typeof initBackend>>> {
  ready ??= initBackend().catch((error: unknown) => {
    ready = null;
    throw error;
  });
  return ready;
}

/** Graceful-stop switches of the training runs in progress, by run id (train.stop). */
const trainStops = new Map<string, AbortController>();

export function createEngineHandlers(options: { exit?: (code: number) => void } = {}): Handlers<EngineContract> {
  const requireTestHooks = (): void => {
    if (!testHooksEnabled()) throw new StudioError('UNKNOWN_METHOD', 'Test hooks are disabled.');
  };

  return {
    'engine.info': async () => ({ ...(await ensureBackend()), pid: process.pid }),
    'engine.setBackend': async ({ preference }) => {
      await ensureBackend();
      const status = await initBackend(preference);
      ready = Promise.resolve(status);
      return status;
    },
    'engine.crashForTest': () => {
      requireTestHooks();
      (options.exit ?? process.exit)(70);
      return null;
    },
    'engine.sleepForTest': async ({ ms }, { signal }) => {
      requireTestHooks();
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(resolve, ms);
        signal.addEventListener('abort', () => {
          clearTimeout(timer);
          reject(new StudioError('CANCELLED', 'The operation was cancelled.'));
        });
      });
      return null;
    },

    'train.stop': ({ runId }) => {
      const stop = trainStops.get(runId);
      if (!stop) return { stopping: false };
      stop.abort();
      return { stopping: true };
    },
    'train.runInfo': (input) => trainRunInfo(input),
    'train.measureSpeed': async (input) => {
      await ensureBackend();
      return measureTrainSpeed(input);
    },

    'models.architectures': async () => {
      await ensureBackend();
      return architectureSummaries();
    },
    'models.layers': async (input) => {
      await ensureBackend();
      return modelLayers(input);
    },
    'models.list': (input) => listModels(input),
    'models.show': async (input) => {
      await ensureBackend();
      return showModel(input);
    },
    'models.import': async (input) => {
      await ensureBackend();
      return importModel(input);
    },
    'models.export': async (input) => {
      await ensureBackend();
      return exportModel(input);
    },
    'models.delete': (input) => deleteModel(input),
    'models.rename': (input) => renameModel(input),

    'restore.pause': ({ runId }) => {
      restoreRun(runId).pause.pause();
      return { paused: true };
    },
    'restore.resume': ({ runId }) => {
      restoreRun(runId).pause.resume();
      return { paused: false };
    },
    'restore.stop': ({ runId }) => {
      restoreRun(runId).stop.abort();
      return { stopping: true };
    },
    'dataset.split': (input) => datasetSplit(input),
    'synth.preview': (input) => synthPreviewJob(input),
    'queue.add': async (input) => {
      await ensureBackend();
      return queueAdd(input);
    },
    'queue.status': ({ redis }) => queueStatusAt(redis),
  };
}

/** The engine's streams: long jobs whose progress is the stream's data (see streamTask). */
export function createEngineSources(): EventSources<EngineContract> {
  return {
    'train.run': streamTask<TrainParams, TrainEvent>(async (params, { signal, emit }) => {
      await ensureBackend();
      const runId = randomUUID();
      const stop = new AbortController();
      trainStops.set(runId, stop);
      try {
        await runTrainJob(params, { signal, stop: stop.signal, emit, runId });
      } finally {
        trainStops.delete(runId);
      }
    }),
    'evaluate.run': streamTask<EvaluateParams, EvaluateEvent>(async (params, { signal, emit }) => {
      await ensureBackend();
      await runEvaluateJob(params, { signal, emit });
    }),
    'restore.run': streamTask<RestoreParams, RestoreEvent>(async (params, ctx) => {
      await ensureBackend();
      await restoreJob(params, ctx);
    }),
    'triage.run': streamTask<{ dir: string; recursive: boolean; classifier?: string; modelsDir?: string }, TriageEvent>(async (params, ctx) => {
      await ensureBackend();
      await triageJob(params, ctx);
    }),
    // Decoding and synthesis use sharp and plain arrays: no tfjs backend needed.
    'dataset.check': streamTask<DatasetCheckParams, DatasetCheckEvent>(datasetCheckJob),
    'synth.run': streamTask<SynthRunParams, SynthEvent>(synthJob),
  };
}

export { backendStatus };
