// Reading Keras HDF5 files with h5wasm (HDF5 compiled to WebAssembly; its Node build reads host paths
// directly). Only what the Keras import needs: attributes as strings, groups, float datasets.
//
// Keras 2 layouts (h5py):
//   full model (model.save):   /  attrs model_config (JSON), keras_version, backend
//                              /model_weights  attrs layer_names [S]; per layer a group with attr weight_names [S]
//                                              and the datasets at <layer>/<weight name> (e.g. conv2d/kernel:0)
//   weights only (save_weights, the keras.applications files):  the same layer groups at the root, with
//                              attr layer_names on the root.
import { register } from 'node:module';
import { open, stat } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import type { Dataset, File as H5File, Group } from 'h5wasm';
import { StudioError } from '#shared/rpc/errors';

type H5Module = typeof import('h5wasm');
let loading: Promise<H5Module['default']> | null = null;

/**
 * Running from sources under tsx, tsx's loader would re-transform h5wasm's 4 MB Emscripten module on every
 * start (~8 s on a small machine); a loader hook hands those files to Node untouched. Built bundles do not
 * run under tsx and skip this.
 */
function bypassTsxForH5wasm(): void {
  if (!import.meta.url.endsWith('.ts')) return;
  const hook = `import { readFile } from 'node:fs/promises';
export async function load(url, context, next) {
  if (url.startsWith('file:') && url.includes('/h5wasm/dist/node/') && url.endsWith('.js')) {
    return { format: 'module', source: await readFile(new URL(url)), shortCircuit: true };
  }
  return next(url, context);
}`;
  try {
    register(`data:text/javascript,${encodeURIComponent(hook)}`);
  } catch {
    // No module hooks here: importing still works, only slower.
  }
}

/** The h5wasm module, initialised once. */
export async function h5(): Promise<H5Module['default']> {
  loading ??= (async () => {
    bypassTsxForH5wasm();
    const mod = (await import('h5wasm/node')) as unknown as H5Module;
    const lib = mod.default ?? (mod as unknown as H5Module['default']);
    await lib.ready;
    return lib;
  })().catch((error: unknown) => {
    loading = null;
    throw error;
  });
  return loading;
}

const SIGNATURE = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]; // \x89HDF\r\n\x1a\n

/** True when the file carries the HDF5 signature (at 0, or after a user block at 512, 1024, 2048 …). */
export async function isHdf5File(path: string): Promise<boolean> {
  let size: number;
  try {
    const info = await stat(path);
    if (!info.isFile()) return false;
    size = info.size;
  } catch {
    return false;
  }
  const handle = await open(path, 'r');
  try {
    const buf = Buffer.alloc(8);
    for (let offset = 0; offset + 8 <= size; offset = offset === 0 ? 512 : offset * 2) {
      const { bytesRead } = await handle.read(buf, 0, 8, offset);
      if (bytesRead === 8 && SIGNATURE.every((b, i) => buf[i] === b)) return true;
    }
    return false;
  } finally {
    await handle.close();
  }
}

export function modelInvalid(file: string, problem: string, details?: unknown): StudioError {
  return new StudioError('MODEL_INVALID', `${basename(file)}: ${problem}`, details);
}

/** Opens an HDF5 file for reading; MODEL_INVALID (naming the file) when it is not one. */
export async function openH5(path: string): Promise<H5File> {
  const full = resolve(path);
  try {
    await stat(full);
  } catch {
    throw new StudioError('NOT_FOUND', `There is no file at ${full}.`);
  }
  if (!(await isHdf5File(full))) throw modelInvalid(full, 'is not an HDF5 file (a Keras .h5 model or weights file was expected).');
  const lib = await h5();
  let file: H5File;
  try {
    file = new lib.File(full, 'r');
  } catch (error) {
    throw modelInvalid(full, `cannot be opened as HDF5: ${(error as Error).message}`);
  }
  if (!file.file_id || file.file_id < 0n) throw modelInvalid(full, 'cannot be opened as HDF5.');
  return file;
}

function decode(value: unknown): string | null {
  if (typeof value === 'string') return value;
  if (value instanceof Uint8Array) return new TextDecoder().decode(value).replace(/\0+$/, '');
  return null;
}

/** A string attribute (h5py writes bytes or str; both decode to a string), or null when absent. */
export function attrString(node: Group | Dataset, name: string): string | null {
  const attr = node.attrs[name];
  if (!attr) return null;
  const value = attr.value;
  if (Array.isArray(value)) return value.length === 1 ? decode(value[0]) : null;
  return decode(value);
}

/** A string-list attribute (layer_names, weight_names), or null when absent. An empty list stays empty. */
export function attrStrings(node: Group | Dataset, name: string): string[] | null {
  const attr = node.attrs[name];
  if (!attr) return null;
  const value = attr.value;
  if (value === null || value === undefined) return [];
  if (Array.isArray(value)) return value.map((v) => decode(v) ?? String(v));
  const one = decode(value);
  if (one !== null) return [one];
  // An empty fixed-length string array can come back as an empty typed array.
  if (ArrayBuffer.isView(value) && (value as ArrayLike<number>).length === 0) return [];
  return null;
}

export function isGroup(entity: unknown): entity is Group {
  return typeof entity === 'object' && entity !== null && (entity as { type?: string }).type === 'Group';
}

export function isDataset(entity: unknown): entity is Dataset {
  return typeof entity === 'object' && entity !== null && (entity as { type?: string }).type === 'Dataset';
}

export interface H5Weight {
  /** The name as stored in weight_names (e.g. "conv2d/kernel:0"). */
  name: string;
  shape: number[];
  values: Float32Array;
}

/**
 * A numeric dataset as float32 values, checked against its shape. `what` names it in errors ('weight
 * "kernel:0" of layer "conv2d"'). h5wasm cannot decode float16 (Keras saves it for float16-policy layers),
 * so that is said in a sentence rather than as h5wasm's "Float16 not supported".
 */
export function datasetFloats(file: string, ds: Dataset, what: string): { shape: number[]; values: Float32Array } {
  const shape = ds.shape ?? [];
  const meta = ds.metadata as { type?: number; size?: number };
  if (meta.type === 1 && meta.size === 2) {
    throw modelInvalid(file, `${what} is stored as float16, which cannot be read here; save the model with float32 weights (a float32 dtype policy) and import that.`);
  }
  const raw = ds.value;
  let values: Float32Array;
  if (raw instanceof Float32Array) values = raw;
  else if (raw instanceof Float64Array || raw instanceof Int32Array || raw instanceof Uint8Array || raw instanceof Int16Array || raw instanceof Uint16Array) {
    values = Float32Array.from(raw);
  } else if (typeof raw === 'number') values = Float32Array.of(raw);
  else throw modelInvalid(file, `${what} is not numeric (${String(ds.dtype)}).`);
  const count = shape.reduce((a, b) => a * b, 1);
  if (values.length !== count) throw modelInvalid(file, `${what} has ${values.length} values for shape [${shape.join(', ')}].`);
  return { shape, values };
}

/** The weights of one layer group, in the order of its weight_names attribute. */
export function readLayerWeights(file: string, group: Group, layer: string): H5Weight[] {
  const entity = group.get(layer);
  if (!isGroup(entity)) throw modelInvalid(file, `has no weight group for layer "${layer}".`);
  const names = attrStrings(entity, 'weight_names');
  if (names === null) throw modelInvalid(file, `the weight group of layer "${layer}" has no weight_names attribute.`);
  return names.map((name) => {
    const ds = entity.get(name);
    if (!isDataset(ds)) throw modelInvalid(file, `weight "${name}" of layer "${layer}" is missing.`);
    return { name, ...datasetFloats(file, ds, `weight "${name}" of layer "${layer}"`) };
  });
}

/** Where the layer groups are: /model_weights in a full model file, the root in a weights-only file. */
export function weightsRoot(file: string, h5file: H5File): { group: Group; layerNames: string[] } {
  const nested = h5file.get('model_weights');
  if (isGroup(nested)) {
    const names = attrStrings(nested, 'layer_names');
    if (names === null) throw modelInvalid(file, 'the model_weights group has no layer_names attribute (not a Keras 2 file?).');
    return { group: nested, layerNames: names };
  }
  const names = attrStrings(h5file, 'layer_names');
  if (names === null) {
    throw modelInvalid(file, 'is an HDF5 file but holds no Keras weights (neither a model_weights group nor a layer_names attribute).');
  }
  return { group: h5file, layerNames: names };
}
