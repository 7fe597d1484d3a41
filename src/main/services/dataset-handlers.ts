// The UI's dataset methods (the training wizard's folder check and preset preview). Decoding every photo and
// degrading a sample are the engine's: the window's process only waits.
import type { StudioContract } from '#shared/contract';
import type { Handlers } from '#shared/rpc/server';
import type { EngineHost } from './engine-host';

export function createDatasetHandlers(deps: { engine: EngineHost }): Pick<Handlers<StudioContract>, 'dataset.check' | 'synth.preview'> {
  const { engine } = deps;
  return {
    'dataset.check': async ({ dir }, { signal }) => (await engine.run('dataset.check', { dir }, { signal })).report,
    'synth.preview': (input, { signal }) => engine.call('synth.preview', input, { signal }),
  };
}
