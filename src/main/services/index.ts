// The studio's services behind the contract. One instance per app (Electron window, browser-mode server,
// CLI); each transport connection gets the same handlers.
import { createRequire } from 'node:module';
import type { AppCommand, StudioContract } from '#shared/contract';
import type { EventSources, Handlers } from '#shared/rpc/server';
import { StudioError } from '#shared/rpc/errors';
import type { FolderAccess } from '../security/folder-access';
import { dataDir } from '../paths';
import type { EngineHost } from './engine-host';
import { listFolder, requireFolder } from './files';
import { importDroppedPaths, newDropFolder } from './dropped';
import type { JobRegistry } from './job-registry';
import type { SettingsStore } from './settings';
import type { DailyLog } from './logger';
import { StreamJobs } from './stream-jobs';
import { createModelHandlers } from './model-handlers';
import { createDatasetHandlers } from './dataset-handlers';
import { createTrainingHandlers } from './training-handlers';
import { createRestoreHandlers } from './restore-handlers';
import { createQueueHandlers } from './queue';

export interface ServiceDeps {
  mode: 'electron' | 'browser' | 'cli';
  engine: EngineHost;
  settings: SettingsStore;
  folders: FolderAccess;
  jobs: JobRegistry;
  /** The native folder dialog (Electron only). */
  pickFolder?: () => Promise<string | null>;
  /** Commands from the desktop shell to the UI (menu, second launch); desktop/commands.ts's CommandBus. */
  commands?: { listen(listener: (command: AppCommand) => void): () => void };
  /** Folders the user opened, for File › Open Recent; desktop/recent.ts's RecentFolders. The services name
   *  only what they call, so they never import the desktop shell (which depends on them). */
  recent?: { add(dir: string): Promise<unknown>; list(): Promise<string[]> };
  /** Shows a folder in the system's file manager (Electron's shell.openPath); absent in browser mode. */
  revealFolder?: (dir: string) => Promise<void>;
  log?: DailyLog;
}

export function appVersion(): string {
  const require = createRequire(import.meta.url);
  for (const candidate of ['../../package.json', '../../../package.json']) {
    try {
      return (require(candidate) as { version: string }).version;
    } catch {
      // try the next layout (source tree vs bundle)
    }
  }
  return '0.0.0';
}

export interface StudioServices {
  handlers: Handlers<StudioContract>;
  events: EventSources<StudioContract>;
}

export function createStudioServices(deps: ServiceDeps): StudioServices {
  const { engine, settings, folders, jobs } = deps;
  const version = appVersion();
  const opened = async (dir: string): Promise<string> => {
    const real = await folders.allow(dir);
    await deps.recent?.add(real);
    return real;
  };
  if (deps.log) logJobs(jobs, deps.log);
  const streams = new StreamJobs(jobs, engine);
  const training = createTrainingHandlers({ engine, settings, streams });
  const restoring = createRestoreHandlers({ engine, settings, streams, folders });

  const handlers: Handlers<StudioContract> = {
    'app.info': async (_input, { signal }) => {
      const status = await engine.call('engine.info', {}, { signal });
      return {
        version,
        mode: deps.mode,
        platform: process.platform,
        dataDir: dataDir(),
        modelsDir: await settings.modelsFolder(),
        backend: status.backend,
        backends: status.backends,
        threads: status.threads,
        gpu: status.gpu,
        unavailable: status.unavailable,
        simd: status.simd,
        detail: status.detail,
        tensorflow: status.tensorflow ?? null,
        ...(status.nativeHint ? { nativeHint: status.nativeHint } : {}),
      };
    },
    'settings.get': () => settings.get(),
    'settings.update': async (patch, { signal }) => {
      const before = await settings.get();
      const next = await settings.update(patch);
      // A new thread count needs a fresh engine (wasm sets its thread pool once); the next request starts it.
      if (next.threads !== before.threads && jobs.list().every((j) => j.state !== 'running')) engine.dispose();
      else if (next.backend !== before.backend) await engine.call('engine.setBackend', { preference: next.backend }, { signal });
      return next;
    },
    'files.list': ({ dir }) => listFolder(dir),
    'folders.pick': async () => {
      if (!deps.pickFolder) return null;
      const dir = await deps.pickFolder();
      return dir ? opened(dir) : null;
    },
    'folders.open': async ({ dir, preview }) => ({ dir: preview ? await folders.allow(dir) : await opened(dir) }),
    'folders.recent': async () => (await deps.recent?.list()) ?? [],
    'folders.reveal': async ({ dir }) => {
      // Only folders: opening a file with the system's handler could run it.
      const real = await requireFolder(dir);
      if (!deps.revealFolder) return { opened: false };
      await deps.revealFolder(real);
      return { opened: true };
    },
    'engine.restart': () => {
      if (jobs.list().some((j) => j.state === 'running')) {
        throw new StudioError('BAD_INPUT', 'A job is still running. Let it finish or cancel it, then restart the engine.');
      }
      engine.dispose();
      return { restarted: true };
    },
    'files.importDropped': ({ paths }) => importDroppedPaths(paths),
    'files.newDropFolder': ({ names }) => newDropFolder(names),
    'jobs.list': () => jobs.list(),
    'jobs.cancel': ({ jobId }) => jobs.cancel(jobId),
    ...createModelHandlers({ engine, settings }),
    ...createDatasetHandlers({ engine }),
    ...training.handlers,
    ...restoring.handlers,
    ...createQueueHandlers({ engine, settings }),
  };

  const events: EventSources<StudioContract> = {
    'jobs.update': ({ jobId }, { emit }) =>
      jobs.onUpdate((job) => {
        if (!jobId || job.id === jobId) emit(job);
      }),
    'engine.state': (_params, { emit }) => {
      emit(engine.state);
      return engine.onState(emit);
    },
    'app.command': (_params, { emit }) => deps.commands?.listen(emit),
    ...training.events,
    ...restoring.events,
  };

  return { handlers, events };
}

/** Every job's start and end (and failures with their reason) go to the day's log. */
function logJobs(jobs: JobRegistry, log: DailyLog): void {
  const started = new Set<string>();
  jobs.onUpdate((job) => {
    if (!started.has(job.id)) {
      started.add(job.id);
      void log.info('job.started', { id: job.id, kind: job.kind, title: job.title });
    }
    if (job.state === 'failed') void log.error('job.failed', { id: job.id, kind: job.kind, error: job.error });
    else if (job.state === 'done' || job.state === 'cancelled') void log.info(`job.${job.state}`, { id: job.id, kind: job.kind });
  });
}
