// Keras 3 files: the `.keras` archive and the `.weights.h5` weights layout.
//
//   model.keras         a zip of config.json (the model, as Keras 3 serialises it), metadata.json
//                       ({"keras_version": ...}) and model.weights.h5
//   *.weights.h5        (model.save_weights, and the file inside the archive) HDF5 with a `layers` group:
//                       layers/<key>/vars/0, 1 ... per layer, where <key> is NOT the layer's name but its class
//                       in snake case, numbered in the order of the model's layers (conv2d, conv2d_1 ...,
//                       batch_normalization ...), because Keras 3 wants weights to load into a fresh copy of
//                       the model whose auto-generated names differ. A layer's vars are its trainable then
//                       non-trainable variables in creation order (kernel, bias; gamma, beta, mean, variance),
//                       which is the order tfjs-layers keeps them in too.
// So a layer's weights are found by walking config.json's layer list the way Keras numbers them; without a
// config (a bare .weights.h5) only the keys and their order are known.
// The .keras files of tf.keras 2.13-2.15 (the format's first versions) keep the same vars under
// _layer_checkpoint_dependencies/<layer name>/vars instead: there the key is the layer's name.
import { unzipSync } from 'fflate';
import { mkdtemp, open, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { File as H5File, Group } from 'h5wasm';
import { StudioError } from '#shared/rpc/errors';
import { MAX_ZIP_UNCOMPRESSED } from '../package/index';
import { datasetFloats, isDataset, isGroup, modelInvalid, openH5, type H5Weight } from './h5';

export const KERAS_CONFIG = 'config.json';
export const KERAS_METADATA = 'metadata.json';
export const KERAS_WEIGHTS = 'model.weights.h5';

/** Where a model's layers keep their weights, by layer (names as the model knows them). */
export interface WeightSource {
  /** The layers the file holds, in file order. */
  layerNames: string[];
  read(layer: string): H5Weight[];
}

async function startsWithZip(path: string): Promise<boolean> {
  const handle = await open(path, 'r').catch(() => null);
  if (!handle) return false;
  try {
    const buf = Buffer.alloc(4);
    const { bytesRead } = await handle.read(buf, 0, 4, 0);
    return bytesRead === 4 && buf[0] === 0x50 && buf[1] === 0x4b && buf[2] === 3 && buf[3] === 4;
  } finally {
    await handle.close();
  }
}

/** Entry names of a zip, without inflating anything; null when it cannot be read as a zip. */
function zipEntries(data: Uint8Array): string[] | null {
  const names: string[] = [];
  try {
    unzipSync(data, {
      filter: (file) => {
        names.push(file.name);
        return false;
      },
    });
    return names;
  } catch {
    return null;
  }
}

/**
 * Whether a file is a Keras 3 archive, by content: a zip holding config.json next to model.weights.h5 or
 * metadata.json. A damaged zip named .keras counts too, so that import says what is wrong with it instead
 * of calling it some other kind of file.
 */
export async function isKerasArchive(path: string): Promise<boolean> {
  const info = await stat(path).catch(() => null);
  if (!info?.isFile() || !(await startsWithZip(path))) return false;
  const names = zipEntries(new Uint8Array(await readFile(path)));
  if (names === null) return /\.keras$/i.test(path);
  return names.includes(KERAS_CONFIG) && (names.includes(KERAS_WEIGHTS) || names.includes(KERAS_METADATA));
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export interface KerasArchive {
  /** config.json as written (Keras 3 form; normalise before handing it to tfjs). */
  config: JsonObject;
  kerasVersion: string | null;
  /** model.weights.h5, opened. */
  weights: H5File;
  close(): Promise<void>;
}

/** Opens a .keras archive: config and metadata parsed, model.weights.h5 opened from a temporary copy. */
export async function openKerasArchive(path: string): Promise<KerasArchive> {
  let data: Uint8Array;
  try {
    data = new Uint8Array(await readFile(path));
  } catch (error) {
    throw new StudioError('NOT_FOUND', `Cannot read ${path}: ${(error as Error).message}`);
  }
  let entries: Record<string, Uint8Array>;
  let total = 0;
  try {
    entries = unzipSync(data, {
      filter: (file) => {
        if (![KERAS_CONFIG, KERAS_METADATA, KERAS_WEIGHTS].includes(file.name)) return false;
        total += file.originalSize;
        if (total > MAX_ZIP_UNCOMPRESSED) throw new Error(`it holds more than ${MAX_ZIP_UNCOMPRESSED} bytes uncompressed`);
        return true;
      },
    });
  } catch (error) {
    throw modelInvalid(path, `is not a readable .keras archive (the zip is truncated or damaged: ${(error as Error).message}).`);
  }
  const config = entries[KERAS_CONFIG];
  if (!config) throw modelInvalid(path, `is a zip without ${KERAS_CONFIG}, so not a Keras 3 model (.keras) archive.`);
  const weights = entries[KERAS_WEIGHTS];
  if (!weights) {
    throw modelInvalid(path, `is a .keras archive without ${KERAS_WEIGHTS}: it describes a model but holds no weights (save it again with model.save).`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder().decode(config));
  } catch (error) {
    throw modelInvalid(path, `its ${KERAS_CONFIG} is not valid JSON: ${(error as Error).message}`);
  }
  if (!isObject(parsed) || typeof parsed.class_name !== 'string' || !isObject(parsed.config)) {
    throw modelInvalid(path, `its ${KERAS_CONFIG} is not a Keras model configuration ({"class_name", "config"}).`);
  }
  let kerasVersion: string | null = null;
  try {
    const meta: unknown = entries[KERAS_METADATA] ? JSON.parse(new TextDecoder().decode(entries[KERAS_METADATA])) : null;
    if (isObject(meta) && typeof meta.keras_version === 'string') kerasVersion = meta.keras_version;
  } catch {
    // metadata.json is informational; a broken one does not stop the import
  }
  // h5wasm reads host files, so the weights go to a private temporary folder for as long as they are open.
  const dir = await mkdtemp(join(tmpdir(), 'studio-keras-'));
  const copy = join(dir, KERAS_WEIGHTS);
  let file: H5File;
  try {
    await writeFile(copy, weights);
    file = await openH5(copy);
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    const why = error instanceof Error ? error.message.replace(`${KERAS_WEIGHTS}: `, '') : String(error);
    throw modelInvalid(path, `its ${KERAS_WEIGHTS} cannot be read: ${why}`);
  }
  return {
    config: parsed,
    kerasVersion,
    weights: file,
    close: async () => {
      file.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Where the per-layer groups sit, and whether they are keyed by layer name (tf.keras 2.13-2.15) or class. */
const LAYOUTS = [
  { group: 'layers', byName: false },
  { group: '_layer_checkpoint_dependencies', byName: true },
] as const;

/** True for the .weights.h5 layout (a top-level `layers` group, no Keras 2 layer_names). */
export function isKeras3Weights(file: H5File): boolean {
  return LAYOUTS.some((l) => isGroup(file.get(l.group))) && !file.attrs.layer_names && !isGroup(file.get('model_weights'));
}

/** Keras' naming.to_snake_case: "Conv2D" → "conv2d", "BatchNormalization" → "batch_normalization". */
export function snakeCase(className: string): string {
  return className
    .replace(/(.)([A-Z][a-z]+)/g, '$1_$2')
    .replace(/([a-z])([A-Z])/g, '$1_$2')
    .toLowerCase();
}

/** Keras 3's keys for a list of layer class names: snake case, numbered _1, _2 ... from the second on. */
export function keras3Keys(classNames: string[]): string[] {
  const used = new Map<string, number>();
  return classNames.map((cls) => {
    const base = snakeCase(cls);
    const n = used.get(base);
    used.set(base, n === undefined ? 0 : n + 1);
    return n === undefined ? base : `${base}_${n + 1}`;
  });
}

/** A layer's vars (layers/<key>/vars/0, 1 ...) in index order. */
function readVars(file: string, layers: Group, key: string, layer: string): H5Weight[] {
  const group = layers.get(key);
  if (!isGroup(group)) throw modelInvalid(file, `has no weights for layer "${layer}" (no layers/${key} group).`);
  const vars = group.get('vars');
  if (!isGroup(vars)) return [];
  const indices = vars.keys().filter((k) => /^\d+$/.test(k)).map(Number).sort((a, b) => a - b);
  return indices.map((i) => {
    const ds = vars.get(String(i));
    if (!isDataset(ds)) throw modelInvalid(file, `weight ${i} of layer "${layer}" (layers/${key}/vars/${i}) is not a dataset.`);
    return { name: `${layer}/${i}`, ...datasetFloats(file, ds, `weight ${i} of layer "${layer}"`) };
  });
}

function layersGroup(file: string, h5file: H5File): { layers: Group; byName: boolean } {
  for (const layout of LAYOUTS) {
    const layers = h5file.get(layout.group);
    if (isGroup(layers)) return { layers, byName: layout.byName };
  }
  throw modelInvalid(file, 'holds no Keras 3 weights (no layers group).');
}

/**
 * The weights of a Keras 3 model by layer name, from its config.json (Functional or Sequential) and its
 * weights file. Nested models are refused: their variables are stored per inner layer, while tfjs-layers
 * sees the whole sub-model as one layer.
 */
export function keras3WeightsByConfig(file: string, h5file: H5File, config: JsonObject): WeightSource {
  const inner = config.config;
  const list = isObject(inner) && Array.isArray(inner.layers) ? inner.layers.filter(isObject) : [];
  if (list.length === 0) throw modelInvalid(file, `its ${KERAS_CONFIG} lists no layers.`);
  const classNames = list.map((l) => (typeof l.class_name === 'string' ? l.class_name : 'Layer'));
  const keys = keras3Keys(classNames);
  const byName = new Map<string, string>();
  list.forEach((entry, i) => {
    const cfg = isObject(entry.config) ? entry.config : {};
    const name = typeof entry.name === 'string' ? entry.name : typeof cfg.name === 'string' ? cfg.name : keys[i]!;
    if (Array.isArray(cfg.layers)) {
      throw modelInvalid(file, `layer "${name}" is a nested model (${classNames[i]}); import the inner model on its own, or flatten it in Keras.`);
    }
    byName.set(name, keys[i]!);
  });
  const { layers, byName: keyedByName } = layersGroup(file, h5file);
  if (keyedByName) for (const name of byName.keys()) byName.set(name, name);
  return {
    layerNames: [...byName.keys()],
    read: (layer) => {
      const key = byName.get(layer);
      if (key === undefined) throw modelInvalid(file, `has no weights for layer "${layer}".`);
      return readVars(file, layers, key, layer);
    },
  };
}

/**
 * A bare weights file: layers by their keys (Keras 3: conv2d, conv2d_1 ..., numbered in model order;
 * tf.keras 2.13-2.15: the layer names themselves, `keyedByName`).
 */
export function keras3WeightsByKey(file: string, h5file: H5File): WeightSource & { keysOf(className: string): string[]; keyedByName: boolean } {
  const { layers, byName } = layersGroup(file, h5file);
  const keys = layers.keys();
  return {
    keyedByName: byName,
    layerNames: keys,
    read: (key) => readVars(file, layers, key, key),
    keysOf: (className) => {
      const base = snakeCase(className);
      const index = (k: string): number => (k === base ? 0 : Number(k.slice(base.length + 1)));
      return keys.filter((k) => k === base || new RegExp(`^${base}_\\d+$`).test(k)).sort((a, b) => index(a) - index(b));
    },
  };
}
