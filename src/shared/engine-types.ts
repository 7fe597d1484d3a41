// Names shared by the engine, the services, the CLI and the UI. Zod schemas are the single source of truth;
// TypeScript types are inferred from them.
import { z } from 'zod';

export const BackendNameSchema = z.enum(['tensorflow', 'wasm', 'cpu']);
export type BackendName = z.infer<typeof BackendNameSchema>;

export const BackendPreferenceSchema = z.enum(['auto', 'tensorflow', 'wasm', 'cpu']);
export type BackendPreference = z.infer<typeof BackendPreferenceSchema>;

export const BackendStatusSchema = z.object({
  /** The backend the engine runs on now. */
  backend: BackendNameSchema,
  /** Every backend that loads on this machine, best first. */
  backends: z.array(BackendNameSchema),
  /** Threads the backend uses for its kernels. */
  threads: z.number().int().positive(),
  /** The GPU's name when the tensorflow backend runs on CUDA, else null. */
  gpu: z.string().nullable(),
  /** Why backends that were tried did not load (backend name → reason). */
  unavailable: z.record(z.string(), z.string()),
  /** wasm: whether the SIMD build runs; null for the other backends. */
  simd: z.boolean().nullable().optional(),
  /** One line on how the backend runs, e.g. "WebAssembly, SIMD, 2 threads (threaded build, one per core)". */
  detail: z.string().optional(),
  /** The native TensorFlow the tensorflow backend links, when it loads: its version, device and origin. */
  tensorflow: z
    .object({
      version: z.string(),
      /** "CPU", or the GPUs the Python TensorFlow it was built from could see. */
      device: z.string(),
      /** Where it came from, e.g. "built by npm run engine:native from TensorFlow 2.21.0 at /path". */
      origin: z.string(),
    })
    .nullable()
    .optional(),
  /** When the native engine does not load: one sentence on how to get it. */
  nativeHint: z.string().optional(),
});
export type BackendStatus = z.infer<typeof BackendStatusSchema>;
