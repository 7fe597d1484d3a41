// The UI's model, dataset, training and evaluation methods: model calls go to the engine with the models
// folder from Settings; training and evaluation run as jobs whose events the UI can replay.
import type { StudioContract } from '#shared/contract';
import type { EventSources, Handlers } from '#shared/rpc/server';
import type { TrainEvent, EvaluateEvent } from '#shared/jobs';
import type { RestoreEvent } from '#shared/restore';
import type { FolderAccess } from '../security/folder-access';
import { StudioError } from '#shared/rpc/errors';
import type { EngineHost } from './engine-host';
import type { SettingsStore } from './settings';
import { StreamJobs } from './stream-jobs';

type Methods =
  | 'models.architectures'
  | 'models.list'
  | 'models.show'
  | 'models.import'
  | 'models.export'
  | 'models.delete'
  | 'models.rename'
  | 'models.layers'
  | 'dataset.check'
  | 'synth.preview'
  | 'train.start'
  | 'train.stop'
  | 'train.runInfo'
  | 'train.measureSpeed'
  | 'evaluate.start'
  | 'restore.start'
  | 'restore.pause'
  | 'restore.resume'
  | 'triage.run';

function baseName(path: string): string {
  return path.split(/[\\/]/).filter(Boolean).pop() ?? path;
}

function describeTrain(event: TrainEvent): { progress: number | null; message: string } | null {
  switch (event.type) {
    case 'start':
      return { progress: event.resumedFrom / event.epochs, message: event.resumedFrom ? `Resumed after epoch ${event.resumedFrom}` : 'Started' };
    case 'batch':
      return { progress: null, message: `Epoch ${event.epoch}, step ${event.step} of ${event.stepsPerEpoch}` };
    case 'epoch':
      return {
        progress: event.epoch / event.epochs,
        message: `Epoch ${event.epoch} of ${event.epochs}${event.valPsnr !== null ? ` · ${event.valPsnr.toFixed(2)} dB` : ''}`,
      };
    case 'done':
      return { progress: 1, message: event.model ? `Saved ${baseName(event.model)}` : 'Stopped before the first epoch ended' };
    default:
      return null;
  }
}

/** "40 s", "3 min", "1 h 20 min": how long a batch should take, said once before it starts. */
function roughDuration(seconds: number): string {
  if (seconds < 90) return `${Math.max(1, Math.round(seconds))} s`;
  const minutes = Math.round(seconds / 60);
  return minutes < 90 ? `${minutes} min` : `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

function describeRestore(event: RestoreEvent): { progress: number | null; message: string } | null {
  switch (event.type) {
    case 'start': {
      const scale = (event.scale ?? 1) > 1 ? ` at ${event.scale}×` : '';
      const estimate = typeof event.estimatedSeconds === 'number' ? `, about ${roughDuration(event.estimatedSeconds)}` : '';
      return {
        progress: 0,
        message: `${event.toDo} photo${event.toDo === 1 ? '' : 's'} to restore${scale}${event.skipped ? `, ${event.skipped} already done` : ''}${estimate}`,
      };
    }
    case 'progress':
      return {
        progress: event.megapixelsTotal > 0 ? Math.min(1, event.megapixelsDone / event.megapixelsTotal) : null,
        message: event.phase === 'paused' ? 'Paused' : `${event.index} of ${event.total}: ${event.file}`,
      };
    case 'done':
      return {
        progress: 1,
        message: `${event.done} restored, ${event.skipped} skipped, ${event.failed.length} failed`,
      };
    default:
      return null;
  }
}

function describeEvaluate(event: EvaluateEvent): { progress: number | null; message: string } | null {
  if (event.type === 'image') return { progress: event.index / event.total, message: `${event.index} of ${event.total}: ${event.file}` };
  if (event.type === 'done') return { progress: 1, message: `${event.result.psnr.toFixed(2)} dB, SSIM ${event.result.ssim.toFixed(4)}` };
  return null;
}

export function createStudioJobs(deps: { engine: EngineHost; settings: SettingsStore; streams: StreamJobs; folders: FolderAccess }): {
  handlers: Pick<Handlers<StudioContract>, Methods>;
  events: Pick<EventSources<StudioContract>, 'train.events' | 'evaluate.events' | 'restore.events'>;
} {
  const { engine, settings, streams, folders } = deps;
  /** The run id the engine gave a stream job in its start event (for pause, resume and stop); null before it
   *  (the model still loading and timed). */
  const startedRunId = (jobId: string): string | null => {
    const start = streams.replay(jobId).find((e) => (e as { type?: string }).type === 'start') as { runId?: string } | undefined;
    return start?.runId ?? null;
  };
  const runIdOf = (jobId: string): string => {
    const runId = startedRunId(jobId);
    if (runId === null) throw new StudioError('JOB_NOT_FOUND', 'That job has not started yet; cancel it instead.');
    return runId;
  };
  /** Restore jobs paused before their start event: the engine has no run to pause yet, so the pause is kept
   *  and handed to the run with its start event, before the UI hears of it (the first tile then waits). */
  const pausedBeforeStart = new Set<string>();
  /** Restore runs by job, from the moment their start event comes in (it is recorded only after `before`,
   *  and a pause in between must reach the engine rather than the set above, which was already read). */
  const restoreRunIds = new Map<string, string>();
  const restoreRunId = (jobId: string): string | null => restoreRunIds.get(jobId) ?? startedRunId(jobId);
  const modelsDir = (): Promise<string> => settings.modelsFolder();

  const handlers: Pick<Handlers<StudioContract>, Methods> = {
    'models.architectures': (_input, { signal }) => engine.call('models.architectures', {}, { signal }),
    'models.layers': async (input, { signal }) => engine.call('models.layers', 'id' in input ? { id: input.id, modelsDir: await modelsDir() } : input, { signal }),
    'models.list': async (_input, { signal }) => engine.call('models.list', { modelsDir: await modelsDir() }, { signal }),
    'models.show': async ({ id }, { signal }) => engine.call('models.show', { id, modelsDir: await modelsDir() }, { signal }),
    'models.import': async (input, { signal }) => engine.call('models.import', { ...input, modelsDir: await modelsDir() }, { signal }),
    'models.export': async (input, { signal }) => engine.call('models.export', { ...input, modelsDir: await modelsDir() }, { signal }),
    'models.delete': async ({ id }, { signal }) => engine.call('models.delete', { id, modelsDir: await modelsDir() }, { signal }),
    'models.rename': async (input, { signal }) => engine.call('models.rename', { ...input, modelsDir: await modelsDir() }, { signal }),

    // Decoding every photo and degrading a sample are the engine's: the window's process only waits.
    'dataset.check': async ({ dir }, { signal }) => (await engine.run('dataset.check', { dir }, { signal })).report,
    'synth.preview': (input, { signal }) => engine.call('synth.preview', input, { signal }),

    'train.start': async (params) => {
      const full = { ...params, modelsDir: params.modelsDir ?? (await modelsDir()) };
      return streams.start('train.run', full, {
        kind: 'train',
        title: `Train ${params.name ?? baseName(params.out)}`,
        describe: describeTrain,
        frequent: (e) => e.type === 'batch',
      });
    },
    'train.stop': ({ jobId }, { signal }) => engine.call('train.stop', { runId: runIdOf(jobId) }, { signal }),
    'train.measureSpeed': (input, { signal }) => engine.call('train.measureSpeed', input, { signal }),
    'train.runInfo': async (input, { signal }) => engine.call('train.runInfo', { ...input, modelsDir: input.modelsDir ?? (await modelsDir()) }, { signal }),
    'evaluate.start': async (params) =>
      streams.start('evaluate.run', { ...params, modelsDir: params.modelsDir ?? (await modelsDir()) }, {
        kind: 'evaluate',
        title: `Evaluate ${params.model}`,
        describe: describeEvaluate,
        frequent: (e) => e.type === 'image',
      }),

    'restore.start': async (params) => {
      const full = { ...params, modelsDir: params.modelsDir ?? (await modelsDir()) };
      // The results must be viewable: the input and output folders join the opened folders before the UI
      // hears of them (the output folder exists once the first photo is written).
      let out: string | null = null;
      let outAllowed = false;
      const job = streams.start('restore.run', full, {
        kind: 'restore',
        title: `Restore ${baseName(params.input)}`,
        describe: describeRestore,
        frequent: (e) => e.type === 'progress',
        before: async (event) => {
          if (event.type === 'start') {
            restoreRunIds.set(job.id, event.runId);
            if (pausedBeforeStart.delete(job.id)) await engine.call('restore.pause', { runId: event.runId }).catch(() => {});
            out = event.out;
            await folders.allow(event.inputRoot).catch(() => {});
          }
          if (event.type === 'done') {
            restoreRunIds.delete(job.id);
            pausedBeforeStart.delete(job.id);
          }
          if (!outAllowed && out && (event.type === 'file' || event.type === 'done')) {
            outAllowed = await folders.allow(out).then(
              () => true,
              () => false,
            );
          }
        },
      });
      return job;
    },
    'restore.pause': ({ jobId }, { signal }) => {
      const runId = restoreRunId(jobId);
      if (runId !== null) return engine.call('restore.pause', { runId }, { signal });
      pausedBeforeStart.add(jobId);
      return { paused: true };
    },
    'restore.resume': ({ jobId }, { signal }) => {
      const runId = restoreRunId(jobId);
      if (runId !== null) return engine.call('restore.resume', { runId }, { signal });
      pausedBeforeStart.delete(jobId);
      return { paused: false };
    },
    'triage.run': async (input, { signal }) => (await engine.run('triage.run', { ...input, modelsDir: await modelsDir() }, { signal })).result,
  };

  const events: Pick<EventSources<StudioContract>, 'train.events' | 'evaluate.events' | 'restore.events'> = {
    'restore.events': ({ jobId }, ctx) => streams.listen(jobId, (e) => ctx.emit(e as RestoreEvent), () => ctx.end()),
    'train.events': ({ jobId }, ctx) => streams.listen(jobId, (e) => ctx.emit(e as TrainEvent), () => ctx.end()),
    'evaluate.events': ({ jobId }, ctx) => streams.listen(jobId, (e) => ctx.emit(e as EvaluateEvent), () => ctx.end()),
  };

  return { handlers, events };
}
