// Composition root of browser mode: settings, folder allow-list, recent folders, jobs, the engine in its own
// process, the services, and the HTTP/WebSocket server. Used by `studio serve`, `npm run serve` and `npm start`'s fallback.
import { mkdir } from 'node:fs/promises';
import { RecentFolders } from '../desktop/recent';
import { FolderAccess } from '../security/folder-access';
import { createStudioServices } from '../services';
import { EngineHost, engineEnv, forkLauncher } from '../services/engine-host';
import { JobRegistry } from '../services/job-registry';
import { SettingsStore } from '../services/settings';
import { dataDir, rendererDir } from '../paths';
import { startBrowserServer, type BrowserServer } from './browser-server';

export interface BrowserMode {
  server: BrowserServer;
  engine: EngineHost;
  stop(): Promise<void>;
}

export async function startBrowserMode(options: { port?: number; token?: string } = {}): Promise<BrowserMode> {
  const home = dataDir();
  await mkdir(home, { recursive: true });
  const settings = SettingsStore.inDataDir(home);
  const saved = await settings.get();
  let current = saved;
  settings.onChange((s) => (current = s));
  const engine = new EngineHost(forkLauncher(() => engineEnv(current)));
  const folders = new FolderAccess([home]);
  const services = createStudioServices({ mode: 'browser', engine, settings, folders, jobs: new JobRegistry(), recent: RecentFolders.inDataDir(home) });
  const server = await startBrowserServer({ services, folders, rendererDir: rendererDir(), ...options });
  return {
    server,
    engine,
    stop: async () => {
      await server.close();
      engine.dispose();
    },
  };
}

export function announce(server: BrowserServer): string {
  return `Restoration Studio is at ${server.url}`;
}
