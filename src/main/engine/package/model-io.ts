// Reading and writing tfjs layers models (model.json + binary weights) on the local file system without
// tfjs-node: a file IOHandler of our own (save writes the artifacts, load validates and returns them), plus
// helpers for loose weight sets (optimizer state, best weights) in the same manifest format.
// Every problem with the files on disk becomes StudioError('MODEL_INVALID') naming the file and the problem.
import * as tf from '@tensorflow/tfjs-core';
import type { NamedTensor } from '@tensorflow/tfjs-core/dist/tensor_types';
import * as tfl from '@tensorflow/tfjs-layers';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { StudioError } from '#shared/rpc/errors';
import '../models/index'; // registers the custom layers the zoo's models use

export const MODEL_JSON = 'model.json';
export const WEIGHTS_BIN = 'weights.bin';

const GENERATED_BY = `Restoration Studio (TensorFlow.js tfjs-layers v${tfl.version_layers})`;

function invalid(message: string, cause?: unknown): StudioError {
  const why = cause instanceof Error ? `: ${cause.message.split('\n')[0]}` : '';
  return new StudioError('MODEL_INVALID', `${message}${why}`);
}

function joinWeightData(data: tf.io.WeightData | undefined): Uint8Array {
  if (data === undefined) return new Uint8Array(0);
  return new Uint8Array(tf.io.CompositeArrayBuffer.join(data));
}

/** Bytes a weight spec occupies in the binary file; null for variable-length (string) weights. */
export function specBytes(spec: tf.io.WeightsManifestEntry): number | null {
  const count = spec.shape.reduce((a, b) => a * b, 1);
  if (spec.quantization) {
    const size = { uint8: 1, uint16: 2, float16: 2 }[spec.quantization.dtype];
    return size === undefined ? null : count * size;
  }
  switch (spec.dtype) {
    case 'float32':
    case 'int32':
      return count * 4;
    case 'bool':
      return count;
    case 'complex64':
      return count * 8;
    default:
      return null;
  }
}

function isSafeFileName(name: string): boolean {
  return name.length > 0 && !name.includes('/') && !name.includes('\\') && name !== '.' && name !== '..' && !name.includes('\0');
}

async function readJson(path: string, label: string, where: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw invalid(`${label} is missing in ${where}`);
    throw invalid(`${label} in ${where} cannot be read`, error);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw invalid(`${label} in ${where} is not valid JSON`, error);
  }
}

/** Writes model.json + weights.bin into `dir` (which must exist). Used as the save half of the IOHandler. */
export async function writeArtifacts(dir: string, artifacts: tf.io.ModelArtifacts, weightsFile = WEIGHTS_BIN): Promise<tf.io.SaveResult> {
  if (artifacts.modelTopology instanceof ArrayBuffer || artifacts.modelTopology === undefined) {
    throw new StudioError('INTERNAL', 'Only tfjs layers models (JSON topology) can be saved.');
  }
  const weightData = joinWeightData(artifacts.weightData);
  const json: tf.io.ModelJSON = {
    format: artifacts.format ?? 'layers-model',
    generatedBy: artifacts.generatedBy ?? GENERATED_BY,
    convertedBy: artifacts.convertedBy ?? null,
    modelTopology: artifacts.modelTopology,
    weightsManifest: [{ paths: [weightsFile], weights: artifacts.weightSpecs ?? [] }],
  };
  if (artifacts.trainingConfig) json.trainingConfig = artifacts.trainingConfig;
  if (artifacts.userDefinedMetadata) json.userDefinedMetadata = artifacts.userDefinedMetadata;
  await writeFile(join(dir, weightsFile), weightData);
  await writeFile(join(dir, MODEL_JSON), JSON.stringify(json));
  return {
    modelArtifactsInfo: {
      dateSaved: new Date(),
      modelTopologyType: 'JSON',
      modelTopologyBytes: JSON.stringify(artifacts.modelTopology).length,
      weightSpecsBytes: JSON.stringify(artifacts.weightSpecs ?? []).length,
      weightDataBytes: weightData.byteLength,
    },
  };
}

/**
 * Reads and checks model.json and its weight files in `dir`: the JSON parses, it is a layers model with a
 * topology and a weights manifest, every listed weight file exists, and the bytes add up to the manifest.
 */
export async function readArtifacts(dir: string): Promise<tf.io.ModelArtifacts> {
  const raw = await readJson(join(dir, MODEL_JSON), MODEL_JSON, dir);
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw invalid(`${MODEL_JSON} in ${dir} is not a JSON object`);
  const json = raw as Partial<tf.io.ModelJSON>;
  if (json.format !== undefined && json.format !== 'layers-model') {
    throw invalid(`${MODEL_JSON} in ${dir} is a "${String(json.format)}" model; only tfjs layers models ("layers-model") are supported`);
  }
  const topology = json.modelTopology as Record<string, unknown> | undefined;
  if (typeof topology !== 'object' || topology === null || Array.isArray(topology)) {
    throw invalid(`${MODEL_JSON} in ${dir} has no modelTopology`);
  }
  const modelConfig = (topology.model_config ?? topology) as Record<string, unknown>;
  if (typeof modelConfig.class_name !== 'string' || typeof modelConfig.config !== 'object') {
    throw invalid(`${MODEL_JSON} in ${dir} has a modelTopology without class_name/config (not a layers model)`);
  }
  if (!Array.isArray(json.weightsManifest)) throw invalid(`${MODEL_JSON} in ${dir} has no weightsManifest`);
  const specs: tf.io.WeightsManifestEntry[] = [];
  const chunks: Uint8Array[] = [];
  for (const [g, group] of json.weightsManifest.entries()) {
    if (!group || !Array.isArray(group.paths) || !Array.isArray(group.weights)) {
      throw invalid(`${MODEL_JSON} in ${dir}: weightsManifest group ${g} needs "paths" and "weights" arrays`);
    }
    let expected = 0;
    for (const spec of group.weights) {
      if (!spec || typeof spec.name !== 'string' || !Array.isArray(spec.shape) || spec.shape.some((d) => !Number.isInteger(d) || d < 0)) {
        throw invalid(`${MODEL_JSON} in ${dir}: weight entry ${JSON.stringify(spec)?.slice(0, 80)} is malformed`);
      }
      const bytes = specBytes(spec);
      if (bytes === null) throw invalid(`${MODEL_JSON} in ${dir}: weight "${spec.name}" has unsupported dtype ${spec.dtype}`);
      expected += bytes;
      specs.push(spec);
    }
    let found = 0;
    for (const path of group.paths) {
      if (typeof path !== 'string' || !isSafeFileName(path)) {
        throw invalid(`${MODEL_JSON} in ${dir} lists weight file ${JSON.stringify(path)}, which is not a plain file name`);
      }
      let data: Buffer;
      try {
        data = await readFile(join(dir, path));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
          throw invalid(`weights file ${path} listed in ${MODEL_JSON} is missing in ${dir}`);
        }
        throw invalid(`weights file ${path} in ${dir} cannot be read`, error);
      }
      found += data.byteLength;
      chunks.push(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    }
    if (found < expected) {
      throw invalid(`weights file ${group.paths.join(' + ')} in ${dir} is truncated: ${MODEL_JSON} needs ${expected} bytes, found ${found}`);
    }
    if (found > expected) {
      throw invalid(`weights file ${group.paths.join(' + ')} in ${dir} does not match ${MODEL_JSON}: ${expected} bytes expected, found ${found}`);
    }
  }
  const total = chunks.reduce((a, c) => a + c.byteLength, 0);
  const weightData = new Uint8Array(total);
  let offset = 0;
  for (const c of chunks) {
    weightData.set(c, offset);
    offset += c.byteLength;
  }
  const artifacts: tf.io.ModelArtifacts = {
    modelTopology: topology,
    weightSpecs: specs,
    weightData: weightData.buffer,
    format: json.format,
    generatedBy: json.generatedBy,
    convertedBy: json.convertedBy,
  };
  if (json.trainingConfig) artifacts.trainingConfig = json.trainingConfig;
  if (json.userDefinedMetadata) artifacts.userDefinedMetadata = json.userDefinedMetadata;
  return artifacts;
}

/** A tfjs IOHandler that saves to and loads from a folder on disk: model.json + weights.bin. */
export function fileIOHandler(dir: string): tf.io.IOHandler {
  return {
    save: (artifacts) => writeArtifacts(dir, artifacts),
    load: () => readArtifacts(dir),
  };
}

/** Saves a model into an existing folder (model.json + weights.bin). */
export async function saveModelFiles(model: tfl.LayersModel, dir: string): Promise<void> {
  await model.save(tf.io.withSaveHandler((artifacts) => writeArtifacts(dir, artifacts)));
}

/** Loads a layers model from a folder, with MODEL_INVALID errors naming the file and the problem. */
export async function loadModelFiles(dir: string): Promise<tfl.LayersModel> {
  const artifacts = await readArtifacts(dir);
  try {
    return await tfl.loadLayersModel(tf.io.fromMemory(artifacts));
  } catch (error) {
    throw invalid(`${MODEL_JSON} in ${dir} describes a model that cannot be built`, error);
  }
}

/** Writes named tensors (optimizer state, a weight snapshot) as `<base>.json` (manifest) + `<base>.bin`. */
export async function writeNamedWeights(dir: string, base: string, tensors: NamedTensor[]): Promise<void> {
  const { data, specs } = await tf.io.encodeWeights(tensors);
  await writeFile(join(dir, `${base}.bin`), new Uint8Array(tf.io.CompositeArrayBuffer.join(data)));
  await writeFile(join(dir, `${base}.json`), JSON.stringify({ format: 'studio-weights', weights: specs }));
}

/** Reads what writeNamedWeights wrote, in the same order. The caller owns (disposes) the tensors. */
export async function readNamedWeights(dir: string, base: string): Promise<NamedTensor[]> {
  const manifest = (await readJson(join(dir, `${base}.json`), `${base}.json`, dir)) as { weights?: tf.io.WeightsManifestEntry[] };
  if (!manifest || !Array.isArray(manifest.weights)) throw invalid(`${base}.json in ${dir} has no "weights" list`);
  let expected = 0;
  for (const spec of manifest.weights) {
    const bytes = spec && Array.isArray(spec.shape) ? specBytes(spec) : null;
    if (bytes === null) throw invalid(`${base}.json in ${dir}: weight entry ${JSON.stringify(spec)?.slice(0, 80)} is malformed`);
    expected += bytes;
  }
  let data: Buffer;
  try {
    data = await readFile(join(dir, `${base}.bin`));
  } catch (error) {
    throw invalid(`${base}.bin in ${dir} cannot be read`, error);
  }
  if (data.byteLength !== expected) {
    throw invalid(`${base}.bin in ${dir} has ${data.byteLength} bytes; ${base}.json needs ${expected}${data.byteLength < expected ? ' (truncated)' : ''}`);
  }
  const buffer = data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) as ArrayBuffer;
  const map = tf.io.decodeWeights(buffer, manifest.weights);
  return manifest.weights.map((spec) => ({ name: spec.name, tensor: map[spec.name]! }));
}
