// The UI's model-library methods (models.*): each goes to the engine with the models folder from Settings.
import type { StudioContract } from '#shared/contract';
import type { Handlers } from '#shared/rpc/server';
import type { EngineHost } from './engine-host';
import type { SettingsStore } from './settings';

type Methods =
  | 'models.architectures'
  | 'models.list'
  | 'models.show'
  | 'models.import'
  | 'models.export'
  | 'models.delete'
  | 'models.rename'
  | 'models.layers';

export function createModelHandlers(deps: { engine: EngineHost; settings: SettingsStore }): Pick<Handlers<StudioContract>, Methods> {
  const { engine, settings } = deps;
  const modelsDir = (): Promise<string> => settings.modelsFolder();
  return {
    'models.architectures': (_input, { signal }) => engine.call('models.architectures', {}, { signal }),
    'models.layers': async (input, { signal }) => engine.call('models.layers', 'id' in input ? { id: input.id, modelsDir: await modelsDir() } : input, { signal }),
    'models.list': async (_input, { signal }) => engine.call('models.list', { modelsDir: await modelsDir() }, { signal }),
    'models.show': async ({ id }, { signal }) => engine.call('models.show', { id, modelsDir: await modelsDir() }, { signal }),
    'models.import': async (input, { signal }) => engine.call('models.import', { ...input, modelsDir: await modelsDir() }, { signal }),
    'models.export': async (input, { signal }) => engine.call('models.export', { ...input, modelsDir: await modelsDir() }, { signal }),
    'models.delete': async ({ id }, { signal }) => engine.call('models.delete', { id, modelsDir: await modelsDir() }, { signal }),
    'models.rename': async (input, { signal }) => engine.call('models.rename', { ...input, modelsDir: await modelsDir() }, { signal }),
  };
}
