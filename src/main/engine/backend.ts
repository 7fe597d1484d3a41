// Backend selection for the engine process: tensorflow (tfjs-node-gpu) → wasm → cpu.
// An explicit preference that cannot load is an error naming why, never a silent fallback.
//
//  - tensorflow: @tensorflow/tfjs-node-gpu, an optional dependency (native TensorFlow, CUDA when present),
//    plus kernels that run TensorFlow's fused ops where tfjs-node composes several (./kernels/native).
//  - wasm: tfjs-backend-wasm with SIMD, multi-threaded in Node through ./kernels/wasm-threads (threads from
//    STUDIO_THREADS, default: one per core up to 8), plus the training kernels the package lacks
//    (./kernels). Without them no conv net can train on wasm.
//  - cpu: the pure-JavaScript reference backend. Always loads; very slow for convolutions.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
// tfjs-core's Node bundle leaves out the gradient functions; tfjs-layers' bundle registers them. The
// engine trains, so it needs them whatever it imports next.
import '@tensorflow/tfjs-layers';
import { availableParallelism } from 'node:os';
import { StudioError } from '#shared/rpc/errors';
import type { BackendName, BackendPreference, BackendStatus } from '#shared/engine-types';
import { BackendPreferenceSchema } from '#shared/engine-types';
import { registerProjectKernels } from './kernels';
import { registerNativeKernels } from './kernels/native';
import { NATIVE_PACKAGE, readNativeRecord } from './native-record';
import { useThreadedWasm, wasmThreadsResult } from './kernels/wasm-threads';

const ORDER: BackendName[] = ['tensorflow', 'wasm', 'cpu'];
const TFJS_NODE_GPU = NATIVE_PACKAGE;
/** Shown wherever only wasm runs: the native engine is 3-5x faster for training and restoring. */
export const NATIVE_HINT =
  'For native TensorFlow (3-5x faster), run `npm run engine:native` in the studio folder with a Python that has TensorFlow (pip install tensorflow-cpu).';
/** XNNPACK's pool in tfjs-backend-wasm holds at most 8 threads. */
const MAX_WASM_THREADS = 8;

let current: BackendStatus | null = null;

async function loadTensorflow(): Promise<void> {
  // tfjs-node-gpu registers the 'tensorflow' backend on import; it is an optional dependency.
  // A variable specifier keeps bundlers and the type checker from requiring the package to exist.
  const specifier = TFJS_NODE_GPU;
  await import(specifier);
  // One TensorFlow op where tfjs-node runs several (fused convolution, ReluGrad): ./kernels/native.
  registerNativeKernels();
}

/** Threads for wasm: STUDIO_THREADS when set to a positive integer, else one per core (at most 8). */
export function wasmThreadRequest(env: NodeJS.ProcessEnv = process.env): { threads: number; source: string } {
  const raw = env.STUDIO_THREADS?.trim();
  if (raw && raw !== '0') {
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 1) {
      throw new StudioError('BAD_INPUT', `STUDIO_THREADS must be a whole number of threads, or 0 for automatic (got "${raw}").`);
    }
    return { threads: Math.min(n, MAX_WASM_THREADS), source: 'STUDIO_THREADS' };
  }
  return { threads: Math.max(1, Math.min(availableParallelism(), MAX_WASM_THREADS)), source: 'one per core' };
}

let wasmPlan: { threads: number; source: string; simd: boolean } | null = null;

async function loadWasm(): Promise<void> {
  registerProjectKernels();
  if (!wasmPlan) {
    const simd = Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'));
    const request = wasmThreadRequest();
    // The threaded build is SIMD-only; without SIMD the package's plain build runs on one thread.
    wasmPlan = { ...request, simd, threads: simd ? request.threads : 1 };
    if (wasmPlan.threads > 1) useThreadedWasm(wasmPlan.threads);
  }
}

const loaders: Record<BackendName, () => Promise<void>> = {
  tensorflow: loadTensorflow,
  wasm: loadWasm,
  cpu: async () => {},
};

function describeLoadError(name: BackendName, error: unknown): string {
  const message = error instanceof Error ? error.message.split('\n')[0]! : String(error);
  const code = (error as { code?: string } | null)?.code;
  if (name === 'tensorflow' && (code === 'ERR_MODULE_NOT_FOUND' || /Cannot find (package|module)/.test(message))) {
    return `${TFJS_NODE_GPU} is not installed (it is an optional dependency and needs a matching CUDA/cuDNN to use a GPU)`;
  }
  return message;
}

async function tryBackend(name: BackendName): Promise<string | null> {
  try {
    await loaders[name]();
    if (!tf.findBackendFactory(name)) return `${name} did not register`;
    const ok = await tf.setBackend(name);
    return ok ? null : `${name} failed to initialise`;
  } catch (error) {
    return describeLoadError(name, error);
  }
}

/** The linked TensorFlow's version (from the library itself), device and origin. */
function nativeTensorflow(): NonNullable<BackendStatus['tensorflow']> {
  const binding = (tf.findBackend('tensorflow') as unknown as { binding?: { TF_Version?: string } } | undefined)?.binding;
  const record = readNativeRecord();
  const version = binding?.TF_Version ?? record?.tensorflow ?? 'unknown';
  const gpus = record?.gpus ?? 0;
  return {
    version,
    device: gpus > 0 ? `${gpus} GPU${gpus === 1 ? '' : 's'} (CUDA)` : 'CPU',
    origin: record
      ? `built by ${record.builtBy} from TensorFlow ${record.tensorflow} at ${record.tensorflowDir}`
      : `the libtensorflow that ${TFJS_NODE_GPU} downloaded when it was installed`,
  };
}

function describe(name: BackendName): { threads: number; simd: boolean | null; detail: string } {
  switch (name) {
    case 'tensorflow': {
      // libtensorflow sizes its own intra-op pool to the machine's cores.
      const threads = availableParallelism();
      const native = nativeTensorflow();
      return { threads, simd: null, detail: `native TensorFlow ${native.version} (${native.device}), ${threads} threads` };
    }
    case 'wasm': {
      const { threads, fallbackReason } = wasmThreadsResult();
      const simd = wasmPlan?.simd ?? false;
      const build = `${simd ? 'SIMD' : 'no SIMD'}, ${threads} thread${threads === 1 ? '' : 's'}`;
      let why = '';
      if (threads === 1) {
        if (!simd) why = ': the threaded build needs SIMD';
        else if (wasmPlan && wasmPlan.threads === 1) why = wasmPlan.source === 'STUDIO_THREADS' ? ' (STUDIO_THREADS=1)' : ' (one core)';
        else if (fallbackReason) why = `: ${fallbackReason}`;
      } else {
        why = ` (threaded build, ${wasmPlan?.source ?? 'default'})`;
      }
      return { threads, simd, detail: `WebAssembly, ${build}${why}` };
    }
    case 'cpu':
      return { threads: 1, simd: null, detail: 'pure JavaScript, 1 thread (slow for convolutions)' };
  }
}

export function resolvePreference(value: string | undefined): BackendPreference {
  const parsed = BackendPreferenceSchema.safeParse(value ?? 'auto');
  if (!parsed.success) {
    throw new StudioError('BAD_INPUT', `Unknown backend "${value}". Choose auto, tensorflow, wasm or cpu.`);
  }
  return parsed.data;
}

/** Selects and initialises the backend. Call once per engine process (again to switch). */
export async function initBackend(preference: BackendPreference = resolvePreference(process.env.STUDIO_BACKEND)): Promise<BackendStatus> {
  const unavailable: Record<string, string> = {};
  const backends: BackendName[] = [];
  for (const name of ORDER) {
    const reason = await tryBackend(name);
    if (reason === null) backends.push(name);
    else unavailable[name] = reason;
  }
  const chosen = preference === 'auto' ? backends[0] : preference;
  if (!chosen || !backends.includes(chosen)) {
    const why = chosen ? unavailable[chosen] : 'no backend loaded';
    throw new StudioError('BACKEND_UNAVAILABLE', `The ${chosen ?? 'requested'} backend cannot be used here: ${why}.`, {
      unavailable,
    });
  }
  await tf.setBackend(chosen);
  await tf.ready();
  const { threads, simd, detail } = describe(chosen);
  // tfjs-node-gpu does not report which device it runs on; null unless that becomes knowable.
  const tensorflow = backends.includes('tensorflow') ? nativeTensorflow() : null;
  current = {
    backend: chosen,
    backends,
    threads,
    gpu: null,
    unavailable,
    simd,
    detail,
    tensorflow,
    ...(tensorflow ? {} : { nativeHint: NATIVE_HINT }),
  };
  return current;
}

export function backendStatus(): BackendStatus | null {
  return current;
}
