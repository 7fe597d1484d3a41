// The engine process's request handlers. Runs wherever the engine runs: its own process (app, browser
// mode) or in-process (CLI). Never imports electron.
import { StudioError } from '../../shared/rpc/errors';
import type { Handlers } from '../../shared/rpc/server';
import { backendStatus, initBackend } from './backend';
import type { EngineContract } from './contract';

const testHooksEnabled = (): boolean => process.env.STUDIO_TEST === '1';

export function createEngineHandlers(options: { exit?: (code: number) => void } = {}): Handlers<EngineContract> {
  let ready: ReturnType<typeof initBackend> | null = null;
  // The backend is chosen lazily, once, on the first request that needs it; a failed start is retried.
  const ensureBackend = async (): Promise<Awaited<ReturnType<typeof initBackend>>> => {
    ready ??= initBackend().catch((error: unknown) => {
      ready = null;
      throw error;
    });
    return ready;
  };

  const requireTestHooks = (): void => {
    if (!testHooksEnabled()) throw new StudioError('UNKNOWN_METHOD', 'Test hooks are disabled.');
  };

  return {
    'engine.info': async () => ({ ...(await ensureBackend()), pid: process.pid }),
    'engine.setBackend': async ({ preference }) => {
      await ensureBackend();
      const status = await initBackend(preference);
      ready = Promise.resolve(status);
      return status;
    },
    'engine.crashForTest': () => {
      requireTestHooks();
      (options.exit ?? process.exit)(70);
      return null;
    },
    'engine.sleepForTest': async ({ ms }, { signal }) => {
      requireTestHooks();
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(resolve, ms);
        signal.addEventListener('abort', () => {
          clearTimeout(timer);
          reject(new StudioError('CANCELLED', 'The operation was cancelled.'));
        });
      });
      return null;
    },
  };
}

export { backendStatus };
