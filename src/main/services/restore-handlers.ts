// The UI's restoring methods: a batch (restore.start) is an app job whose engine events the UI can replay
// (restore.events), paused and resumed by job id (even before the engine has started its run); triage is an
// engine call. Models are found in the models folder from Settings unless the request names one.
import type { StudioContract } from '#shared/contract';
import type { EventSources, Handlers } from '#shared/rpc/server';
import type { RestoreEvent } from '#shared/restore';
import type { FolderAccess } from '../security/folder-access';
import type { EngineHost } from './engine-host';
import type { SettingsStore } from './settings';
import { baseName, type StreamJobs } from './stream-jobs';

type Methods = 'restore.start' | 'restore.pause' | 'restore.resume' | 'triage.run';

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
      const estimate =
        (typeof event.estimatedSeconds === 'number' ? `, about ${roughDuration(event.estimatedSeconds)}` : '') +
        (event.memoryMegabytes ? `, up to ${event.memoryMegabytes} MB of memory` : '');
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

export function createRestoreHandlers(deps: { engine: EngineHost; settings: SettingsStore; streams: StreamJobs; folders: FolderAccess }): {
  handlers: Pick<Handlers<StudioContract>, Methods>;
  events: Pick<EventSources<StudioContract>, 'restore.events'>;
} {
  const { engine, settings, streams, folders } = deps;
  const modelsDir = (): Promise<string> => settings.modelsFolder();
  /** Restore jobs paused before their start event: the engine has no run to pause yet, so the pause is kept
   *  and handed to the run with its start event, before the UI hears of it (the first tile then waits). */
  const pausedBeforeStart = new Set<string>();
  /** Restore runs by job, from the moment their start event comes in (it is recorded only after `before`,
   *  and a pause in between must reach the engine rather than the set above, which was already read). */
  const restoreRunIds = new Map<string, string>();
  const restoreRunId = (jobId: string): string | null => restoreRunIds.get(jobId) ?? streams.runId(jobId);

  const handlers: Pick<Handlers<StudioContract>, Methods> = {
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

  const events: Pick<EventSources<StudioContract>, 'restore.events'> = {
    'restore.events': ({ jobId }, ctx) => streams.listen(jobId, (e) => ctx.emit(e as RestoreEvent), () => ctx.end()),
  };

  return { handlers, events };
}
