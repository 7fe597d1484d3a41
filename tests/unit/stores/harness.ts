// The renderer's stores outside a page: the studio's real services (and an in-process engine) answer over
// the in-memory transport, handed to the stores as the preload bridge Electron would give them. The data
// folder is a temporary STUDIO_HOME. Call startStudio() before importing a store: the API connects when
// its module loads.
import { join } from 'node:path';
import { createPinia, setActivePinia } from 'pinia';
import { BRIDGE_KEY, type StudioBridge } from '#shared/bridge';
import { studioContract } from '#shared/contract';
import type { Message } from '#shared/rpc/protocol';
import { createMemoryPair } from '#shared/rpc/memory';
import { serveRpc } from '#shared/rpc/server';
import { tempDir } from '../../helpers/fixtures';
import { useTestBackend } from '../../helpers/native';

export interface Studio {
  root: string;
  home: string;
  stop(): Promise<void>;
}

export async function startStudio(): Promise<Studio> {
  const tmp = await tempDir('studio-stores-');
  const home = join(tmp.dir, 'home');
  process.env.STUDIO_HOME = home;
  await useTestBackend();
  const { createStudioServices } = await import('../../../src/main/services');
  const { EngineHost, inProcessLauncher } = await import('../../../src/main/services/engine-host');
  const { FolderAccess } = await import('../../../src/main/security/folder-access');
  const { JobRegistry } = await import('../../../src/main/services/job-registry');
  const { SettingsStore } = await import('../../../src/main/services/settings');
  const engine = new EngineHost(await inProcessLauncher());
  const services = createStudioServices({
    mode: 'electron',
    engine,
    settings: SettingsStore.inDataDir(home),
    folders: new FolderAccess([home]),
    jobs: new JobRegistry(),
  });
  const [page, main] = createMemoryPair();
  const connection = serveRpc(main, studioContract, services.handlers, services.events);
  const bridge: StudioBridge = {
    send: (message) => page.send(message as Message),
    onMessage: (listener) => page.onMessage(listener),
  };
  // What the preload script exposes, and the one corner of the DOM the stores touch (the theme).
  Object.assign(globalThis, { window: { [BRIDGE_KEY]: bridge }, document: { documentElement: { dataset: {} as Record<string, string> } } });
  setActivePinia(createPinia());
  return {
    root: tmp.dir,
    home,
    stop: async () => {
      connection.close();
      page.close();
      engine.dispose();
      await tmp.cleanup();
    },
  };
}

/** Resolves once `check` holds (polled), or rejects after `ms` with `what`. */
export async function until(check: () => boolean, what: string, ms = 120_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`Timed out waiting for ${what}.`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Saves an untrained 3-layer DnCNN as the model package `tiny` ("Tiny denoiser") in `dir`; returns its folder. */
export async function saveTinyDenoiser(dir: string): Promise<string> {
  const tf = await import('@tensorflow/tfjs-core');
  const { getArchitecture } = await import('../../../src/main/engine/models');
  const { savePackage } = await import('../../../src/main/engine/package');
  await tf.ready();
  const hyper = { depth: 3, filters: 8 };
  const model = getArchitecture('dncnn').build(hyper, { channels: 3 });
  try {
    await savePackage(dir, model, { name: 'Tiny denoiser', id: 'tiny', architecture: { id: 'dncnn', hyper } });
  } finally {
    model.dispose();
  }
  return join(dir, 'tiny');
}
