// Where the native engine came from: `npm run engine:native` builds @tensorflow/tfjs-node-gpu's binding
// against a Python TensorFlow and leaves this record in the package folder; the engine reads it to say
// which TensorFlow it runs and how to rebuild it. A package installed with its own download has no record.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export const NATIVE_PACKAGE = '@tensorflow/tfjs-node-gpu';
export const NATIVE_RECORD = 'deps/studio-native.json';

export interface NativeBuildRecord {
  builtBy: string;
  builtAt: string;
  python: string;
  tensorflow: string;
  tensorflowDir: string;
  gpus: number;
  package: string;
  napi: number;
  /** Patches applied to the binding's sources before the build (scripts/native-binding-patch.ts). */
  patches?: string[];
}

/** The record of the installed package, or null (not installed, or installed by its own download). */
export function readNativeRecord(): NativeBuildRecord | null {
  try {
    const manifest = createRequire(import.meta.url).resolve(`${NATIVE_PACKAGE}/package.json`);
    return JSON.parse(readFileSync(join(dirname(manifest), NATIVE_RECORD), 'utf8')) as NativeBuildRecord;
  } catch {
    return null;
  }
}
