// The UI's training and evaluation methods: a run (train.start, evaluate.start) is an app job whose engine
// events the UI can replay (train.events, evaluate.events); the rest are engine calls. Models go to, and are
// found in, the models folder from Settings unless the request names one.
import type { StudioContract } from '#shared/contract';
import type { EventSources, Handlers } from '#shared/rpc/server';
import type { TrainEvent } from '#shared/training';
import type { EvaluateEvent } from '#shared/evaluation';
import { StudioError } from '#shared/rpc/errors';
import type { EngineHost } from './engine-host';
import type { SettingsStore } from './settings';
import { baseName, type StreamJobs } from './stream-jobs';

type Methods = 'train.start' | 'train.stop' | 'train.runInfo' | 'train.measureSpeed' | 'evaluate.start';

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

function describeEvaluate(event: EvaluateEvent): { progress: number | null; message: string } | null {
  if (event.type === 'image') return { progress: event.index / event.total, message: `${event.index} of ${event.total}: ${event.file}` };
  if (event.type === 'done') return { progress: 1, message: `${event.result.psnr.toFixed(2)} dB, SSIM ${event.result.ssim.toFixed(4)}` };
  return null;
}

export function createTrainingHandlers(deps: { engine: EngineHost; settings: SettingsStore; streams: StreamJobs }): {
  handlers: Pick<Handlers<StudioContract>, Methods>;
  events: Pick<EventSources<StudioContract>, 'train.events' | 'evaluate.events'>;
} {
  const { engine, settings, streams } = deps;
  const modelsDir = (): Promise<string> => settings.modelsFolder();
  const runIdOf = (jobId: string): string => {
    const runId = streams.runId(jobId);
    if (runId === null) throw new StudioError('JOB_NOT_FOUND', 'That job has not started yet; cancel it instead.');
    return runId;
  };

  const handlers: Pick<Handlers<StudioContract>, Methods> = {
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
  };

  const events: Pick<EventSources<StudioContract>, 'train.events' | 'evaluate.events'> = {
    'train.events': ({ jobId }, ctx) => streams.listen(jobId, (e) => ctx.emit(e as TrainEvent), () => ctx.end()),
    'evaluate.events': ({ jobId }, ctx) => streams.listen(jobId, (e) => ctx.emit(e as EvaluateEvent), () => ctx.end()),
  };

  return { handlers, events };
}
