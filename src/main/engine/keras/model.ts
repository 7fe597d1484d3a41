// Keras model import: the architecture from the `model_config` attribute of an .h5 file or the config.json of
// a Keras 3 .keras archive (Keras JSON, which tfjs-layers deserialises), the weights from the `model_weights`
// group (Keras 2 layout) or the archive's model.weights.h5 (Keras 3 layout, keras3.ts), set layer by layer.
//
// Keras 3 configs written to .h5 are normalised to the Keras 2 shape tfjs-layers reads (batch_shape,
// dtype policies, module/registered_name keys, keras-tensor inbound nodes). Layers tfjs cannot build (a
// Lambda with Python code, custom classes) are refused before building, naming the layer.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { basename } from 'node:path';
import { StudioError } from '#shared/rpc/errors';
import '../models/index'; // the zoo's custom layers count as known classes
import { attrString, modelInvalid, openH5, readLayerWeights, weightsRoot, type H5Weight } from './h5';
import { isKerasArchive, keras3WeightsByConfig, openKerasArchive, type WeightSource } from './keras3';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

function isObject(value: Json | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Class names tfjs can deserialise (built-in layers, initialisers, … and the zoo's registered layers). */
function knownClasses(): Set<string> {
  const map = (tf.serialization.SerializationMap.getMap() as unknown as { classNameMap: Record<string, unknown> }).classNameMap;
  return new Set(Object.keys(map));
}

/** The `{args, kwargs}` inbound node of Keras 3 → the Keras 2 list [[layer, node, tensor, kwargs], …]. */
function kerasTensorNode(node: JsonObject): Json[] {
  const out: Json[] = [];
  const visit = (value: Json | undefined): void => {
    if (Array.isArray(value)) value.forEach(visit);
    else if (isObject(value)) {
      if (value.class_name === '__keras_tensor__' && isObject(value.config) && Array.isArray(value.config.keras_history)) {
        const [layer, nodeIndex, tensorIndex] = value.config.keras_history;
        out.push([layer ?? null, nodeIndex ?? 0, tensorIndex ?? 0, {}]);
      } else {
        for (const v of Object.values(value)) visit(v);
      }
    }
  };
  visit(node.args);
  return out;
}

/** Rewrites Keras 3 idioms into the Keras 2 form tfjs-layers understands; Keras 2 configs pass unchanged. */
export function normalizeKerasConfig(value: Json): Json {
  if (Array.isArray(value)) return value.map(normalizeKerasConfig);
  if (!isObject(value)) return value;
  // A dtype policy object ({"class_name": "DTypePolicy", "config": {"name": "float32"}}) → its name.
  if ((value.class_name === 'DTypePolicy' || value.class_name === 'Policy') && isObject(value.config) && typeof value.config.name === 'string') {
    return value.config.name;
  }
  const out: JsonObject = {};
  for (const [key, v] of Object.entries(value)) {
    if (key === 'module' || key === 'registered_name' || key === 'build_config' || key === 'compile_config') continue;
    if (key === 'batch_shape') {
      out.batch_input_shape = normalizeKerasConfig(v);
      continue;
    }
    if ((key === 'input_layers' || key === 'output_layers') && Array.isArray(v) && typeof v[0] === 'string') {
      out[key] = [v]; // Keras 3 writes a single input/output as a flat [name, node, tensor]
      continue;
    }
    if (key === 'inbound_nodes' && Array.isArray(v)) {
      out.inbound_nodes = v.map((node) => (isObject(node) && 'args' in node ? kerasTensorNode(node) : normalizeKerasConfig(node)));
      continue;
    }
    out[key] = normalizeKerasConfig(v);
  }
  return out;
}

interface LayerRef {
  name: string;
  className: string;
}

/** Every layer config in a model config (nested models and wrapped layers included). */
function layerRefs(config: Json, out: LayerRef[] = []): LayerRef[] {
  if (!isObject(config)) return out;
  const inner = config.config;
  if (typeof config.class_name === 'string' && isObject(inner)) {
    const name = typeof inner.name === 'string' ? inner.name : '(unnamed)';
    if (Array.isArray(inner.layers)) {
      for (const layer of inner.layers) layerRefs(layer, out);
      out.push({ name, className: config.class_name });
    } else {
      out.push({ name, className: config.class_name });
      if (isObject(inner.layer)) layerRefs(inner.layer, out); // TimeDistributed, Bidirectional
    }
  }
  return out;
}

/** Refuses layers tfjs cannot build, naming them (before tfjs' own, more cryptic error). */
function checkLayers(file: string, config: Json): void {
  const known = knownClasses();
  const bad = layerRefs(config).filter((l) => !known.has(l.className));
  if (bad.length === 0) return;
  const list = bad.map((l) => `"${l.name}" (${l.className})`).join(', ');
  const lambda = bad.some((l) => l.className === 'Lambda')
    ? ' Lambda layers hold Python code, which cannot run here; rebuild the model with standard layers.'
    : '';
  throw modelInvalid(file, `unsupported layer${bad.length > 1 ? 's' : ''} ${list}: TensorFlow.js has no such layer.${lambda}`, {
    layers: bad,
  });
}

/** Parses and normalises the model_config attribute. */
export function readModelConfig(file: string, raw: string | null): JsonObject {
  if (raw === null) {
    throw modelInvalid(file, 'has no model_config attribute: it holds weights only, not a model (load it into a matching architecture instead, e.g. --vgg16-weights).');
  }
  let parsed: Json;
  try {
    parsed = JSON.parse(raw) as Json;
  } catch (error) {
    throw modelInvalid(file, `its model_config is not valid JSON: ${(error as Error).message}`);
  }
  if (!isObject(parsed) || typeof parsed.class_name !== 'string' || !isObject(parsed.config)) {
    throw modelInvalid(file, 'its model_config is not a Keras model configuration ({"class_name", "config"}).');
  }
  return normalizeKerasConfig(parsed) as JsonObject;
}

function shortWeightName(name: string): string {
  return (name.split('/').pop() ?? name).replace(/:\d+$/, '');
}

/**
 * Puts file weights into a layer: by weight name when every name matches (kernel, bias, gamma …), else in
 * order (how Keras loads by name), after checking every shape.
 */
export function assignLayerWeights(file: string, layer: tfl.layers.Layer, weights: H5Weight[]): void {
  const targets = layer.weights;
  if (weights.length !== targets.length) {
    throw modelInvalid(file, `layer "${layer.name}" has ${targets.length} weights but the file holds ${weights.length}.`);
  }
  const byName = new Map(weights.map((w) => [shortWeightName(w.name), w]));
  const named = byName.size === weights.length && targets.every((t) => byName.has(shortWeightName(t.originalName ?? t.name)));
  const ordered = named ? targets.map((t) => byName.get(shortWeightName(t.originalName ?? t.name))!) : weights;
  const tensors = ordered.map((w, i) => {
    const want = targets[i]!.shape;
    if (w.shape.length !== want.length || w.shape.some((d, k) => d !== want[k])) {
      throw modelInvalid(
        file,
        `weight "${w.name}" of layer "${layer.name}" has shape [${w.shape.join(', ')}]; the layer needs [${want.join(', ')}].`,
      );
    }
    return tf.tensor(w.values, w.shape, 'float32');
  });
  try {
    layer.setWeights(tensors);
  } finally {
    tf.dispose(tensors);
  }
}

export interface KerasModelInfo {
  kerasVersion: string | null;
  backend: string | null;
  /** Layers of the file whose weights were not used (not in the model). */
  unusedLayers: string[];
}

/** Builds a model from its (normalised) config and fills it from `weights`. The caller disposes it. */
async function buildWithWeights(path: string, config: JsonObject, weights: WeightSource, what: string): Promise<{ model: tfl.LayersModel; unusedLayers: string[] }> {
  checkLayers(path, config);
  let model: tfl.LayersModel;
  try {
    model = await tfl.models.modelFromJSON({ modelTopology: config } as unknown as Parameters<typeof tfl.models.modelFromJSON>[0]);
  } catch (error) {
    throw modelInvalid(path, `its ${what} cannot be built: ${(error as Error).message.split('\n')[0]}`);
  }
  try {
    const inFile = new Set(weights.layerNames);
    for (const layer of model.layers) {
      if (layer.weights.length === 0) continue;
      if (!inFile.has(layer.name)) throw modelInvalid(path, `has no weights for layer "${layer.name}".`);
      assignLayerWeights(path, layer, weights.read(layer.name));
    }
  } catch (error) {
    model.dispose();
    throw error;
  }
  const used = new Set(model.layers.map((l) => l.name));
  return { model, unusedLayers: weights.layerNames.filter((n) => !used.has(n)) };
}

function asModelInvalid(path: string, error: unknown): never {
  if (error instanceof StudioError) throw error;
  throw modelInvalid(path, (error as Error).message ?? String(error));
}

/**
 * Builds the model of a Keras .h5 file or a Keras 3 .keras archive and loads its weights. The caller
 * disposes the model.
 */
export async function loadKerasModel(path: string): Promise<{ model: tfl.LayersModel; info: KerasModelInfo }> {
  if (await isKerasArchive(path)) return loadKerasArchive(path);
  const file = await openH5(path);
  try {
    const config = readModelConfig(path, attrString(file, 'model_config'));
    const { group, layerNames } = weightsRoot(path, file);
    const source: WeightSource = { layerNames, read: (layer) => readLayerWeights(path, group, layer) };
    const { model, unusedLayers } = await buildWithWeights(path, config, source, 'model_config');
    return {
      model,
      info: { kerasVersion: attrString(file, 'keras_version'), backend: attrString(file, 'backend'), unusedLayers },
    };
  } catch (error) {
    asModelInvalid(path, error);
  } finally {
    file.close();
  }
}

/** A Keras 3 .keras archive: config.json for the architecture, model.weights.h5 in the Keras 3 layout. */
async function loadKerasArchive(path: string): Promise<{ model: tfl.LayersModel; info: KerasModelInfo }> {
  const archive = await openKerasArchive(path);
  try {
    const config = normalizeKerasConfig(archive.config) as JsonObject;
    const source = keras3WeightsByConfig(path, archive.weights, archive.config);
    const { model, unusedLayers } = await buildWithWeights(path, config, source, 'config.json');
    return { model, info: { kerasVersion: archive.kerasVersion, backend: null, unusedLayers } };
  } catch (error) {
    asModelInvalid(path, error);
  } finally {
    await archive.close();
  }
}

/** A display name for an imported file: its name without the extension. */
export function kerasDisplayName(path: string): string {
  return basename(path).replace(/\.(h5|hdf5|keras)$/i, '') || 'keras-model';
}
