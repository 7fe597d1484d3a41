// The Restore view's queue methods: the Redis URL comes from Settings, the model and the photos are handled by
// the engine (it loads the model once to pin its fingerprint, as `studio queue add` does).
import type { StudioContract } from '#shared/contract';
import type { Handlers } from '#shared/rpc/server';
import { StudioError } from '#shared/rpc/errors';
import { defaultModelsDir } from '../paths';
import type { EngineHost } from './engine-host';
import type { SettingsStore } from './settings';

export function createQueueHandlers(deps: { engine: EngineHost; settings: SettingsStore }): Pick<Handlers<StudioContract>, 'queue.send' | 'queue.status'> {
  const redis = async (): Promise<string> => {
    const url = (await deps.settings.get()).redisUrl;
    if (!url) throw new StudioError('BAD_INPUT', 'No queue is set up: enter its Redis URL in Settings (e.g. redis://localhost:6379) first.');
    return url;
  };
  return {
    'queue.send': async (params, { signal }) => {
      return deps.engine.call('queue.add', { ...params, redis: await redis(), modelsDir: (await deps.settings.get()).modelsDir ?? defaultModelsDir() }, { signal });
    },
    'queue.status': async (_input, { signal }) => deps.engine.call('queue.status', { redis: await redis() }, { signal }),
  };
}
