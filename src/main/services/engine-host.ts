// Owns the engine: starts it on the first request, turns its death into a clear error for the request in
// flight, and starts a fresh one on the next request. The app never waits on the engine's thread.
import { fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RpcClient, type CallOptions, type SubscribeHandlers } from '#shared/rpc/client';
import { StudioError } from '#shared/rpc/errors';
import type { EngineState } from '#shared/contract';
import type { EventDataOf, EventName, InputOf, MethodName, OutputOf, ParamsOf, Transport } from '#shared/rpc/protocol';
import { createMemoryPair } from '#shared/rpc/memory';
import { serveRpc } from '#shared/rpc/server';
import { childTransport, forkedChild, type ChildLike } from '../transport/process-channel';
import { engineContract, type EngineContract } from '../engine/contract';

/** Starts one engine and returns its transport; `exitInfo` tells how it ended (for the error message). */
export type EngineLauncher = () => { transport: Transport; pid?: number; exitInfo: () => string | null };

export interface EngineEntry {
  entry: string;
  execArgv: string[];
}

/** Where the engine's entry file is: the TypeScript source under tsx, or the built bundle. */
export function engineEntry(): EngineEntry {
  const here = dirname(fileURLToPath(import.meta.url));
  if (import.meta.url.endsWith('.ts')) {
    return { entry: resolve(here, '../engine/process.ts'), execArgv: ['--import', 'tsx'] };
  }
  for (const candidate of [join(here, 'engine.js'), join(here, '..', 'engine.js')]) {
    if (existsSync(candidate)) return { entry: candidate, execArgv: [] };
  }
  throw new Error(`The engine bundle (engine.js) is missing next to ${here}. Run \`npm run build\`.`);
}

/** Describes how a child ended, for the error the in-flight request gets. */
function exitDescription(code: number | null, signal: string | null): string {
  return signal ? `killed by ${signal}` : `exit code ${code}`;
}

export function launcherFromChild(start: () => ChildLike): EngineLauncher {
  return () => {
    const child = start();
    let exit: string | null = null;
    child.onExit((code, signal) => {
      exit = exitDescription(code, signal);
    });
    return { transport: childTransport(child), pid: child.pid, exitInfo: () => exit };
  };
}

/**
 * The engine's environment: the backend and thread count of the settings, unless STUDIO_BACKEND or
 * STUDIO_THREADS is set (a flag or the environment wins over a saved setting).
 */
export function engineEnv(settings: { backend: string; threads: number }): NodeJS.ProcessEnv {
  const env = { ...process.env };
  env.STUDIO_BACKEND ||= settings.backend;
  if (!env.STUDIO_THREADS && settings.threads > 0) env.STUDIO_THREADS = String(settings.threads);
  return env;
}

/** The engine as a Node child process (browser mode, tests). */
export function forkLauncher(env: () => NodeJS.ProcessEnv = () => process.env): EngineLauncher {
  return launcherFromChild(() => {
    const { entry, execArgv } = engineEntry();
    const child = fork(entry, [], { execArgv, env: env(), stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    return forkedChild(child);
  });
}

/** The engine inside this process (the CLI): same protocol over an in-memory pair, no extra process. */
export async function inProcessLauncher(): Promise<EngineLauncher> {
  const { createEngineHandlers, createEngineSources } = await import('../engine/handlers');
  return () => {
    const [hostSide, engineSide] = createMemoryPair();
    serveRpc(engineSide, engineContract, createEngineHandlers(), createEngineSources());
    return { transport: hostSide, exitInfo: () => null };
  };
}

export class EngineHost {
  private client: RpcClient<EngineContract> | null = null;
  private readonly listeners = new Set<(state: EngineState) => void>();
  private current: EngineState = { state: 'stopped', backend: null, message: 'The engine starts on first use.' };

  constructor(private readonly launch: EngineLauncher) {}

  get state(): EngineState {
    return this.current;
  }

  onState(listener: (state: EngineState) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async call<M extends MethodName<EngineContract>>(
    method: M,
    input: InputOf<EngineContract, M>,
    options?: CallOptions,
  ): Promise<OutputOf<EngineContract, M>> {
    const result = await this.connect().call(method, input, options);
    if (method === 'engine.info' || method === 'engine.setBackend') {
      const backend = (result as { backend: EngineState['backend'] }).backend;
      this.setState({ state: 'ready', backend, message: `Engine ready on ${backend}.` });
    }
    return result;
  }

  /**
   * Starts an engine stream (long jobs: training, evaluation, restoring). Data arrives until the engine ends
   * the stream (`end()` without error: finished), fails it, or crashes (`end(ENGINE_CRASHED)`); calling the
   * returned function cancels it.
   */
  subscribe<E extends EventName<EngineContract>>(
    event: E,
    params: ParamsOf<EngineContract, E>,
    handlers: SubscribeHandlers<EventDataOf<EngineContract, E>>,
  ): () => void {
    return this.connect().subscribe(event, params, handlers);
  }

  /**
   * Runs an engine stream to its end and resolves with its `done` event (every event reaches `onEvent`
   * first). When `signal` fires: with `stop`, once the run's start event has named its runId, the engine is
   * asked to stop gracefully and the summary still comes; otherwise the stream is cancelled and the promise
   * rejects with CANCELLED and `cancelled` as the sentence.
   */
  run<E extends EventName<EngineContract>>(
    event: E,
    params: ParamsOf<EngineContract, E>,
    options: {
      signal?: AbortSignal;
      onEvent?: (data: EventDataOf<EngineContract, E>) => void;
      stop?: (runId: string) => Promise<unknown>;
      cancelled?: string;
    } = {},
  ): Promise<Extract<EventDataOf<EngineContract, E>, { type: 'done' }>> {
    type Done = Extract<EventDataOf<EngineContract, E>, { type: 'done' }>;
    const { signal } = options;
    return new Promise<Done>((resolvePromise, reject) => {
      let runId: string | null = null;
      let done: Done | null = null;
      const onAbort = (): void => {
        if (runId && options.stop) {
          options.stop(runId).catch(() => {});
          return;
        }
        unsubscribe();
        reject(new StudioError('CANCELLED', options.cancelled ?? 'The operation was cancelled.'));
      };
      const unsubscribe = this.subscribe(event, params, {
        data: (data) => {
          const tagged = data as { type?: string; runId?: string };
          if (tagged.type === 'start' && typeof tagged.runId === 'string') runId = tagged.runId;
          if (tagged.type === 'done') done = data as Done;
          options.onEvent?.(data);
        },
        end: (error) => {
          signal?.removeEventListener('abort', onAbort);
          if (error) reject(error);
          else if (done) resolvePromise(done);
          else reject(new StudioError('INTERNAL', `The engine's ${event} stream ended without a result.`));
        },
      });
      if (signal?.aborted) onAbort();
      else signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Stops the engine (app quit, tests). */
  dispose(): void {
    this.client?.close();
    this.client = null;
    this.setState({ state: 'stopped', backend: null, message: 'The engine is stopped.' });
  }

  private connect(): RpcClient<EngineContract> {
    if (this.client && !this.client.isClosed) return this.client;
    const { transport, exitInfo } = this.launch();
    let disposed = false;
    const client = new RpcClient<EngineContract>(transport, {
      closedError: () => ({
        code: 'ENGINE_CRASHED',
        message: `The engine stopped unexpectedly (${exitInfo() ?? 'connection lost'}). The request failed; the engine restarts on the next one.`,
      }),
    });
    transport.onClose(() => {
      if (disposed || this.client !== client) return;
      this.setState({
        state: 'crashed',
        backend: null,
        message: `The engine stopped (${exitInfo() ?? 'connection lost'}); it restarts on the next request.`,
      });
    });
    const originalClose = client.close.bind(client);
    client.close = () => {
      disposed = true;
      originalClose();
    };
    this.client = client;
    this.setState({ state: 'starting', backend: null, message: 'Starting the engine…' });
    return client;
  }

  private setState(state: EngineState): void {
    this.current = state;
    for (const l of this.listeners) l(state);
  }
}
