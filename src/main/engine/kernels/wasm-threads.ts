// Multi-threaded wasm in Node: loads tfjs-backend-wasm's threaded SIMD build in the engine process.
//
// tfjs-backend-wasm 4.22 ships a threaded build (XNNPACK with a pthreadpool on Emscripten pthreads) but
// never uses it in Node: its WASM_HAS_MULTITHREAD_SUPPORT flag is hard-wired to false there
// (tfjs issue #3830), and its loader hands Emscripten blob: URLs for the pthread worker script, which
// Node's worker_threads cannot load. The Emscripten glue itself supports Node workers, so this module
// registers a replacement factory for the 'wasm' backend that:
//   1. starts the pthread workers from the worker script's source (worker_threads `eval: true`) instead
//      of a blob: URL, with empty execArgv so loaders of the parent (e.g. tsx) are not loaded into them;
//   2. sets the thread count: the C++ side caps it at emscripten_num_logical_cores() / 2 (it assumes two
//      hyper-threads per core), which on a 2-core machine without SMT would mean 1 thread, so the
//      reported core count is adjusted to make the cap equal the requested count;
//   3. unrefs the pool threads so an idle engine process can still exit, and ends the workers Emscripten
//      pre-started but the pool does not use (it always starts 8, ~9 MB each; XNNPACK creates its threads
//      once, when the backend starts, so they would stay idle).
// Everything else (kernels, memory, the BackendWasm class) is the package's own.
//
// The pool threads only run inside XNNPACK operators (convolutions, matMul and the like); elementwise
// kernels stay single-threaded.
import * as tf from '@tensorflow/tfjs-core';
import * as wasm from '@tensorflow/tfjs-backend-wasm';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Worker as NodeWorker, type WorkerOptions } from 'node:worker_threads';

const require = createRequire(import.meta.url);

const THREADED_JS = '@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.js';
const THREADED_WASM = '@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.wasm';
const WORKER_JS = '@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.worker.js';
/** What our locateFile returns for the pthread worker script; the Worker shim below recognises it. */
const WORKER_MARKER = 'studio:tfjs-wasm-pthread-worker';

/** The subset of the Emscripten module the loader touches. */
interface EmscriptenModule {
  cwrap(name: string, returns: string | null, args: string[]): (...args: number[]) => number;
  PThread?: { runningWorkers: NodeWorker[]; unusedWorkers: NodeWorker[] };
  tfjs?: Record<string, unknown>;
}
type EmscriptenFactory = (config: Record<string, unknown>) => Promise<EmscriptenModule>;
type WasmImports = { env: Record<string, unknown> };

function workerSource(): string {
  const { wasmWorkerContents } = require(WORKER_JS) as { wasmWorkerContents: string };
  // The package stores the script in a template literal, so its "\n" escapes are real newlines now, some
  // of them inside string literals; put the escapes back (the package does the same for its blob).
  return wasmWorkerContents.replace(/\n/g, '\\n');
}

/**
 * While the threaded build starts, a worker error fails the start (wasm then falls back to one thread);
 * after a failed start the abandoned workers' errors are ignored and the workers terminated.
 */
let startup: { state: 'starting' | 'failed' | 'running'; fail: (error: unknown) => void } = { state: 'running', fail: () => {} };
const pthreadWorkers = new Set<NodeWorker>();

/**
 * Emscripten calls `new Worker(locateFile('...worker.js'))` with the global Worker it sets to
 * worker_threads.Worker. Replace it with a subclass that evaluates the worker script from source.
 * Emscripten also rethrows a worker's error from its `onerror` handler, which would crash the engine
 * process if, say, a packaged app could not read the glue script; during startup that error fails the
 * start instead.
 */
function installWorkerShim(source: string): void {
  const current = (globalThis as { Worker?: unknown }).Worker;
  if ((current as { studioShim?: boolean } | undefined)?.studioShim) return;
  class PthreadWorker extends NodeWorker {
    static studioShim = true;
    #onerror: ((error: unknown) => void) | null = null;
    constructor(file: string | URL, options: WorkerOptions = {}) {
      if (file === WORKER_MARKER) super(source, { ...options, eval: true, execArgv: [] });
      else super(file, options);
      pthreadWorkers.add(this);
    }
    get onerror(): ((error: unknown) => void) | null {
      return this.#onerror;
    }
    set onerror(handler: ((error: unknown) => void) | null) {
      this.#onerror = (error) => {
        if (startup.state === 'starting') startup.fail(error);
        else if (startup.state === 'running') handler?.(error);
      };
    }
  }
  (globalThis as { Worker?: unknown }).Worker = PthreadWorker;
}

/** Emscripten waits forever when the wasm binary or a worker fails to load; bound the wait. */
const START_TIMEOUT_MS = 60_000;

async function instantiateThreaded(threads: number): Promise<EmscriptenModule> {
  const factory = require(THREADED_JS) as EmscriptenFactory;
  const source = workerSource();
  let fail: (error: unknown) => void = () => {};
  let timer: NodeJS.Timeout | undefined;
  const failed = new Promise<never>((_, reject) => {
    fail = (error) => reject(error instanceof Error ? error : new Error(String((error as { message?: unknown })?.message ?? error)));
    timer = setTimeout(() => reject(new Error(`no answer within ${START_TIMEOUT_MS / 1000} s`)), START_TIMEOUT_MS);
    timer.unref();
  });
  startup = { state: 'starting', fail };
  const started = factory({
    locateFile(path: string, prefix: string) {
      if (path.endsWith('.worker.js')) {
        installWorkerShim(source);
        return WORKER_MARKER;
      }
      return prefix + path;
    },
    instantiateWasm(imports: WasmImports, receive: (instance: WebAssembly.Instance, module: WebAssembly.Module) => void) {
      // backend.cc: threads = min(requested, 8, logical_cores / 2). Report 2x the request so the last
      // term does not cap it on machines without hyper-threading.
      imports.env.emscripten_num_logical_cores = () => 2 * threads;
      WebAssembly.instantiate(readFileSync(require.resolve(THREADED_WASM)), imports as unknown as WebAssembly.Imports).then(
        ({ instance, module }) => receive(instance, module),
        fail,
      );
      return {};
    },
  });
  let module: EmscriptenModule;
  try {
    module = await Promise.race([started, failed]);
    startup.state = 'running';
  } catch (error) {
    startup.state = 'failed';
    for (const worker of pthreadWorkers) void worker.terminate();
    throw error;
  } finally {
    clearTimeout(timer);
  }
  // The same bridge the package's own init() builds.
  module.tfjs = {
    init: module.cwrap('init', null, []),
    initWithThreadsCount: module.cwrap('init_with_threads_count', null, ['number']),
    getThreadsCount: module.cwrap('get_threads_count', 'number', []),
    registerTensor: module.cwrap('register_tensor', null, ['number', 'number', 'number']),
    disposeData: module.cwrap('dispose_data', null, ['number']),
    dispose: module.cwrap('dispose', null, []),
  };
  return module;
}

export interface WasmThreadsResult {
  /** Threads the XNNPACK pool actually runs (1 when the single-threaded build is used). */
  threads: number;
  /** Why the threaded build is not in use, or null when it is. */
  fallbackReason: string | null;
}

let outcome: WasmThreadsResult = { threads: 1, fallbackReason: 'not initialised' };
let installed = false;

/**
 * Makes the 'wasm' backend start the threaded build with `threads` threads (call before the backend is
 * first initialised; later calls are ignored). If the threaded build fails to start, the package's
 * single-threaded SIMD build is used instead and `wasmThreadsResult()` says why.
 */
export function useThreadedWasm(threads: number): void {
  if (installed || threads < 2) return;
  installed = true;
  if ((tf.engine().registry as Record<string, unknown>).wasm) {
    // Replacing an initialised backend would dispose it and every tensor on it.
    outcome = { threads: wasm.getThreadsCount(), fallbackReason: 'wasm was initialised before the engine chose its threads' };
    return;
  }
  const original = tf.findBackendFactory('wasm');
  if (!original) throw new Error('@tensorflow/tfjs-backend-wasm must be imported before useThreadedWasm');
  tf.removeBackend('wasm');
  tf.registerBackend(
    'wasm',
    async () => {
      try {
        const module = await instantiateThreaded(threads);
        wasm.setThreadsCount(threads);
        const BackendWasm = (wasm as unknown as { BackendWasm: new (m: EmscriptenModule) => tf.KernelBackend }).BackendWasm;
        const backend = new BackendWasm(module);
        for (const worker of module.PThread?.runningWorkers ?? []) worker.unref();
        for (const worker of module.PThread?.unusedWorkers.splice(0) ?? []) void worker.terminate();
        outcome = { threads: wasm.getThreadsCount(), fallbackReason: null };
        return backend;
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        outcome = { threads: 1, fallbackReason: `the threaded wasm build did not start (${reason})` };
        return original();
      }
    },
    2,
  );
}

export function wasmThreadsResult(): WasmThreadsResult {
  return outcome;
}
