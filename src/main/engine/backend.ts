// Backend selection for the engine process: tensorflow (tfjs-node-gpu) → wasm → cpu.
// An explicit preference that cannot load is an error naming why, never a silent fallback.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { StudioError } from '../../shared/rpc/errors';
import type { BackendName, BackendPreference, BackendStatus } from '../../shared/engine-types';
import { BackendPreferenceSchema } from '../../shared/engine-types';

const ORDER: BackendName[] = ['tensorflow', 'wasm', 'cpu'];

let current: BackendStatus | null = null;

async function loadTensorflow(): Promise<void> {
  // tfjs-node-gpu registers the 'tensorflow' backend on import; it is an optional dependency.
  // A variable specifier keeps bundlers and the type checker from requiring the package to exist.
  const specifier = '@tensorflow/tfjs-node-gpu';
  await import(specifier);
}

async function loadWasm(): Promise<void> {
  await import('@tensorflow/tfjs-backend-wasm');
}

const loaders: Record<BackendName, () => Promise<void>> = {
  tensorflow: loadTensorflow,
  wasm: loadWasm,
  cpu: async () => {},
};

async function tryBackend(name: BackendName): Promise<string | null> {
  try {
    await loaders[name]();
    if (!tf.findBackendFactory(name)) return `${name} did not register`;
    const ok = await tf.setBackend(name);
    return ok ? null : `${name} failed to initialise`;
  } catch (error) {
    return error instanceof Error ? error.message.split('\n')[0]! : String(error);
  }
}

function threadsOf(name: BackendName): number {
  return name === 'cpu' ? 1 : 1;
}

export function resolvePreference(value: string | undefined): BackendPreference {
  const parsed = BackendPreferenceSchema.safeParse(value || 'auto');
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
  current = { backend: chosen, backends, threads: threadsOf(chosen), gpu: null, unavailable };
  return current;
}

export function backendStatus(): BackendStatus | null {
  return current;
}
