// Whether this machine has the native engine (npm run engine:native, or tfjs-node-gpu's own download).
// Tests that depend on it state both outcomes: tensorflow works where the binding is built, and asking for
// it is a clear BACKEND_UNAVAILABLE where it is not.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

function bindingBuilt(): boolean {
  try {
    const manifest = createRequire(import.meta.url).resolve('@tensorflow/tfjs-node-gpu/package.json');
    return existsSync(join(dirname(manifest), 'lib', 'napi-v8', 'tfjs_binding.node'));
  } catch {
    return false;
  }
}

export const NATIVE = bindingBuilt();
/** The backends every engine test expects to load here, best first. */
export const EXPECTED_BACKENDS = NATIVE ? ['tensorflow', 'wasm', 'cpu'] : ['wasm', 'cpu'];

/**
 * The backend the engine, training, restore and model tests run on: cpu (the reference) unless the test
 * runner's second pass sets STUDIO_TEST_BACKEND=tensorflow to run the same tests on native TensorFlow.
 */
export const TEST_BACKEND = (process.env.STUDIO_TEST_BACKEND ?? 'cpu') as 'cpu' | 'wasm' | 'tensorflow';

/** Switches this process to TEST_BACKEND (through the engine's own selection, so a missing one is an error). */
export async function useTestBackend(): Promise<void> {
  if (TEST_BACKEND === 'cpu') {
    // The reference backend needs no loading (and the others would only slow every test file down).
    const tf = await import('@tensorflow/tfjs-core');
    await import('@tensorflow/tfjs-backend-cpu');
    await tf.setBackend('cpu');
    return;
  }
  const { initBackend } = await import('../../src/main/engine/backend');
  await initBackend(TEST_BACKEND);
}
