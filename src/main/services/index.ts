// The studio's services behind the contract. One instance per app (Electron window, browser-mode server,
// CLI); each transport connection gets the same handlers.
import { createRequire } from 'node:module';
import type { StudioContract } from '../../shared/contract';
import type { EventSources, Handlers } from '../../shared/rpc/server';
import type { FolderAccess } from '../security/folder-access';
import { defaultModelsDir, dataDir } from '../paths';
import type { EngineHost } from './engine-host';
import { listFolder } from './files';
import type { JobRegistry } from './jobs';
import type { SettingsStore } from './settings';

export interface ServiceDeps {
  mode: 'electron' | 'browser' | 'cli';
  engine: EngineHost;
  settings: SettingsStore;
  folders: FolderAccess;
  jobs: JobRegistry;
  /** The native folder dialog (Electron only). */
  pickFolder?: () => Promise<string | null>;
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

  const handlers: Handlers<StudioContract> = {
    'app.info': async (_input, { signal }) => {
      const status = await engine.call('engine.info', {}, { signal });
      const s = await settings.get();
      return {
        version,
        mode: deps.mode,
        platform: process.platform,
        dataDir: dataDir(),
        modelsDir: s.modelsDir ?? defaultModelsDir(),
        backend: status.backend,
        backends: status.backends,
        threads: status.threads,
        gpu: status.gpu,
        unavailable: status.unavailable,
      };
    },
    'settings.get': () => settings.get(),
    'settings.update': async (patch, { signal }) => {
      const before = await settings.get();
      const next = await settings.update(patch);
      if (next.backend !== before.backend) await engine.call('engine.setBackend', { preference: next.backend }, { signal });
      return next;
    },
    'files.list': ({ dir }) => listFolder(dir),
    'folders.pick': async () => {
      if (!deps.pickFolder) return null;
      const dir = await deps.pickFolder();
      return dir ? folders.allow(dir) : null;
    },
    'folders.open': async ({ dir }) => ({ dir: await folders.allow(dir) }),
    'jobs.list': () => jobs.list(),
    'jobs.cancel': ({ jobId }) => jobs.cancel(jobId),
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
  };

  return { handlers, events };
}
