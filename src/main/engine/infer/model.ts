// The models restoration and triage run: found by id or folder, loaded through the model-package API, and
// wrapped for the tiler. A restoration model is anything that maps an NHWC image in [0, 1] to an image of
// the same size, or of an integer multiple of it (an upscaler: the card's `scale`, else measured on a small
// probe): a zoo package (card.json + model.json + weights) or a bare tfjs layers folder.
//
// What the tiler needs to know about a model is measured from its layers: the receptive radius (how far a
// pixel's output looks; tiles overlap by twice that so seams are exact), the size multiple the network
// computes at (pooling, pixel-unshuffle) and roughly how many bytes of activations each input pixel costs.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { StudioError } from '#shared/rpc/errors';
import { NO_MODEL } from '#shared/restore';
import type { ModelCard } from '#shared/model-card';
import { CARD_JSON, isModelFolder, loadModelFiles, loadPackageDir, locateModel, lookupRoots, modelIds, MODEL_JSON, readCard, type ModelLookup } from '../package/index';
import type { TileModel } from './tiles';
import { exists } from '../../fs-exists';

export type { ModelLookup };

/** The bundled default restoration model (resources/models/old-photo). */
export const DEFAULT_RESTORE_MODEL = 'old-photo';
/** The bundled damage detector (resources/models/damage), restore's repair stage. */
export const DEFAULT_DAMAGE_MODEL = 'damage';
/** The model-zoo id of the clean-vs-degraded classifier, also the id triage looks for first. */
export const DEFAULT_CLASSIFIER_MODEL = 'classifier';

export interface RestoreModel {
  /** Package id or folder name. */
  readonly id: string;
  readonly name: string;
  /** Changes when the weights change; part of a batch journal's settings key. */
  readonly fingerprint: string;
  /** NHWC RGB in [0, 1] → NHWC RGB of the same size (times `scale`). */
  readonly run: TileModel;
  /** Output pixels per input pixel along each axis: 1 for restorers, 2/4/8 for upscalers. Absent means 1. */
  readonly scale?: number;
  /** Multiply-adds per input pixel, for time estimates; absent or null when unknown. */
  readonly macsPerPixel?: number | null;
  /** Height/width multiple the network computes at; tiles are aligned and padded to it. */
  readonly multiple: number;
  /** How many pixels away an output pixel looks (Infinity for global operations such as channel attention). */
  readonly receptiveRadius: number;
  /** Estimated activation bytes per input pixel at the model's peak (float32). */
  readonly bytesPerPixel: number;
  /** Fixed input height and width, when the model only accepts one size. */
  readonly fixedSize: readonly [number, number] | null;
  dispose(): void;
}


export interface LoadedModelDir {
  id: string;
  name: string;
  dir: string;
  card: ModelCard | null;
  model: tfl.LayersModel;
  fingerprint: string;
}

export interface LayerAnalysis {
  receptiveRadius: number;
  multiple: number;
  bytesPerPixel: number;
}

type Shape = (number | null)[];

function pair(value: unknown, fallback = 1): [number, number] {
  if (Array.isArray(value)) return [Number(value[0] ?? fallback), Number(value[1] ?? value[0] ?? fallback)];
  if (typeof value === 'number') return [value, value];
  return [fallback, fallback];
}

function outputShape(layer: tfl.layers.Layer): Shape | null {
  try {
    const shape = layer.outputShape as Shape | Shape[];
    return (Array.isArray(shape[0]) ? shape[0] : shape) as Shape;
  } catch {
    return null;
  }
}

const GLOBAL_LAYERS = new Set([
  'GlobalAveragePooling2D',
  'GlobalMaxPooling2D',
  'SimplifiedChannelAttention',
  'Flatten',
  'Reshape',
]);

/**
 * Walks the layers in topological order tracking, per layer output, the accumulated receptive radius (in
 * input pixels) and the stride (input pixels per output pixel). Conservative: branches take the maximum.
 */
export function analyseLayers(model: tfl.LayersModel): LayerAnalysis {
  // zoom: output pixels per input pixel along an axis (unclamped, unlike stride: above 1 after upsampling),
  // so an upscaler's high-resolution layers count with their real size in the memory estimate.
  const state = new Map<tfl.layers.Layer, { radius: number; stride: number; zoom: number }>();
  let multiple = 1;
  const perPixelBytes: number[] = [];
  for (const layer of model.layers) {
    const inbound = layer.inboundNodes.flatMap((node) => node.inboundLayers);
    let radius = 0;
    let stride = 1;
    let zoom = 0;
    for (const source of inbound) {
      const s = state.get(source);
      if (!s) continue;
      radius = Math.max(radius, s.radius);
      stride = Math.max(stride, s.stride);
      zoom = Math.max(zoom, s.zoom);
    }
    if (zoom === 0) zoom = 1;
    const cls = layer.getClassName();
    const config = layer.getConfig() as Record<string, unknown>;
    const kernelReach = (key: string, dilationKey?: string): number => {
      const [kh, kw] = pair(config[key]);
      const [dh, dw] = dilationKey ? pair(config[dilationKey]) : [1, 1];
      return Math.max(((kh - 1) * dh) / 2, ((kw - 1) * dw) / 2);
    };
    if (GLOBAL_LAYERS.has(cls)) {
      radius = Infinity;
    } else if (cls === 'Conv2D' || cls === 'DepthwiseConv2D' || cls === 'SeparableConv2D' || cls === 'Conv1D') {
      // A strided conv also looks up to stride-1 pixels further on one side (it is not centred).
      const s = Math.max(...pair(config.strides));
      radius += (kernelReach('kernelSize', 'dilationRate') + (s - 1)) * stride;
      stride *= s;
      zoom /= s;
    } else if (cls === 'MaxPooling2D' || cls === 'AveragePooling2D') {
      // Pooling blocks are not centred: a pixel shares its block with neighbours up to pool-1 away.
      const pool = Math.max(...pair(config.poolSize, 2));
      radius += (pool - 1) * stride;
      const s = Math.max(...pair(config.strides ?? config.poolSize, pool));
      stride *= s;
      zoom /= s;
    } else if (cls === 'Conv2DTranspose') {
      const s = Math.max(...pair(config.strides));
      stride = Math.max(1, stride / s);
      zoom *= s;
      radius += (kernelReach('kernelSize') + (s - 1)) * stride;
    } else if (cls === 'UpSampling2D') {
      // Each output pixel copies (or interpolates) the low-resolution pixel whose block holds it.
      const size = Math.max(...pair(config.size, 2));
      stride = Math.max(1, stride / size);
      zoom *= size;
      radius += size * stride;
    } else if (cls === 'PixelUnshuffle') {
      const r = Number(config.blockSize ?? 2);
      radius += (r - 1) * stride;
      stride *= r;
      zoom /= r;
    } else if (cls === 'PixelShuffle') {
      const r = Number(config.blockSize ?? 2);
      stride = Math.max(1, stride / r);
      zoom *= r;
      radius += (r - 1) * stride;
    } else if (cls === 'PadToMultiple') {
      multiple = Math.max(multiple, Number(config.multiple ?? 1));
    } else if (layer instanceof tfl.LayersModel) {
      const inner = analyseLayers(layer);
      radius += inner.receptiveRadius * stride;
      multiple = Math.max(multiple, inner.multiple * stride);
    } else {
      // Unknown layers with a spatial kernel (custom convolutions) count like a convolution.
      for (const weight of layer.weights) {
        if (weight.shape.length === 4 && weight.name.includes('kernel')) {
          radius += ((Math.max(weight.shape[0]!, weight.shape[1]!) - 1) / 2) * stride;
          break;
        }
      }
    }
    multiple = Math.max(multiple, stride);
    state.set(layer, { radius, stride, zoom });
    const shape = outputShape(layer);
    const channels = shape && shape.length === 4 ? shape[3] : null;
    if (typeof channels === 'number') perPixelBytes.push(4 * channels * zoom * zoom);
  }
  let receptiveRadius = 0;
  for (const output of model.outputs) {
    const s = state.get(output.sourceLayer as tfl.layers.Layer);
    if (s) receptiveRadius = Math.max(receptiveRadius, s.radius);
  }
  perPixelBytes.sort((a, b) => b - a);
  // Input, output and one skip connection alive at once, plus the backend's working space.
  const top = perPixelBytes.slice(0, 3).reduce((a, b) => a + b, 0);
  const bytesPerPixel = Math.max(64, Math.ceil(top * 1.5));
  multiple = 2 ** Math.ceil(Math.log2(Math.max(1, Math.round(multiple))));
  return { receptiveRadius: Math.ceil(receptiveRadius), multiple, bytesPerPixel };
}

export type ModelPurpose = 'restore' | 'classify';

function howToGetOne(purpose: ModelPurpose, modelsDir: string, bundled: string): string {
  return purpose === 'restore'
    ? `Pass --model with the id of a model in ${modelsDir} or the path of a model folder (a model package, or a ` +
        `TensorFlow.js layers model folder with model.json and its weights). Train one in the Train view, import ` +
        `one in the Models view, or install the bundled "${DEFAULT_RESTORE_MODEL}" package into ${bundled}.`
    : `Train a model with the "${DEFAULT_CLASSIFIER_MODEL}" architecture (Train view) or import one into ` +
        `${modelsDir}, then pass --model with its id or folder.`;
}

/** The model folder a --model value (or the default, when none is given) refers to. */
export async function resolveModelDir(spec: string | undefined, purpose: ModelPurpose, lookup: ModelLookup = {}): Promise<string> {
  const { modelsDir, bundled } = lookupRoots(lookup);
  if (spec === undefined || spec === '') {
    const id = purpose === 'restore' ? DEFAULT_RESTORE_MODEL : DEFAULT_CLASSIFIER_MODEL;
    for (const dir of purpose === 'restore' ? [join(bundled, id), join(modelsDir, id)] : [join(modelsDir, id), join(bundled, id)]) {
      if (await isModelFolder(dir)) return dir;
    }
    if (purpose === 'classify') {
      // Any classifier package the user trained or imported: the newest wins.
      let best: { dir: string; createdAt: string } | null = null;
      for (const root of [modelsDir, bundled]) {
        for (const name of await modelIds(root)) {
          const card = await readCard(join(root, name)).catch(() => null);
          if (card?.task === 'classify' && (!best || card.createdAt > best.createdAt)) best = { dir: join(root, name), createdAt: card.createdAt };
        }
      }
      if (best) return best.dir;
    }
    throw new StudioError(
      'MODEL_NOT_FOUND',
      purpose === 'restore'
        ? `No restoration model is available: the default "${DEFAULT_RESTORE_MODEL}" model is not installed. ${howToGetOne(purpose, modelsDir, bundled)}`
        : `No classifier model is available. ${howToGetOne(purpose, modelsDir, bundled)}`,
    );
  }
  const { dir } = await locateModel(spec, lookup, howToGetOne(purpose, modelsDir, bundled));
  if (!(await stat(dir)).isDirectory() || !(await isModelFolder(dir))) {
    throw new StudioError('MODEL_INVALID', `${dir} is not a model folder (it has neither ${CARD_JSON} nor ${MODEL_JSON}).`);
  }
  return dir;
}

/** A short hash of the model's files: model.json and the weight files it lists. */
async function fingerprintDir(dir: string): Promise<string> {
  const hash = createHash('sha256');
  const json = await readFile(join(dir, MODEL_JSON));
  hash.update(json);
  try {
    const manifest = JSON.parse(json.toString('utf8')) as { weightsManifest?: { paths?: string[] }[] };
    for (const group of manifest.weightsManifest ?? []) {
      for (const path of group.paths ?? []) hash.update(await readFile(join(dir, path)));
    }
  } catch {
    // readArtifacts reports broken files with a better message when the model is loaded.
  }
  return hash.digest('hex').slice(0, 16);
}

/** Loads a package folder (card.json + model) or a bare tfjs layers folder (model.json + weights). */
export async function loadModelDir(dir: string): Promise<LoadedModelDir> {
  const id = dir.split(/[\\/]/).filter(Boolean).pop() ?? 'model';
  if (await exists(join(dir, CARD_JSON))) {
    const loaded = await loadPackageDir(dir);
    const fingerprint = await fingerprintDir(dir).catch(() => loaded.card.createdAt);
    return { id: loaded.id, name: loaded.card.name, dir, card: loaded.card, model: loaded.model, fingerprint };
  }
  const model = await loadModelFiles(dir);
  return { id, name: id, dir, card: null, model, fingerprint: await fingerprintDir(dir) };
}

function symmetricPadTo(x: tf.Tensor4D, height: number, width: number): tf.Tensor4D {
  let y = x;
  while (y.shape[1] < height || y.shape[2] < width) {
    const ph = Math.min(height - y.shape[1], y.shape[1]);
    const pw = Math.min(width - y.shape[2], y.shape[2]);
    y = tf.mirrorPad(y, [[0, 0], [0, Math.max(0, ph)], [0, Math.max(0, pw)], [0, 0]], 'symmetric');
  }
  return y;
}

/**
 * Wraps a layers model for the tiler. RGB models run as they are; single-channel models run once per colour
 * channel (as a batch of three); fixed-size models get their input mirror-padded up to their size.
 */
export function wrapLayersModel(
  model: tfl.LayersModel,
  info: { id: string; name: string; fingerprint: string; card?: ModelCard | null; detector?: boolean },
): RestoreModel {
  const inputShape = (model.inputs[0]?.shape ?? []) as Shape;
  const outShape = (model.outputs[0]?.shape ?? []) as Shape;
  if (model.inputs.length !== 1 || model.outputs.length !== 1 || inputShape.length !== 4 || outShape.length !== 4) {
    throw new StudioError(
      'MODEL_INVALID',
      `"${info.name}" is not an image-to-image model (it takes ${model.inputs.length} input(s) of shape [${inputShape.join(', ')}] and gives [${outShape.join(', ')}]).`,
    );
  }
  if (info.card?.task === 'classify') {
    throw new StudioError('MODEL_INVALID', `"${info.name}" is a classifier, not a restoration model. Use it with \`studio triage\`.`);
  }
  if (info.card?.task === 'detect' && !info.detector) {
    throw new StudioError('MODEL_INVALID', `"${info.name}" is a damage detector, not a restoration model. Use it for the repair stage (\`studio restore --repair 0.5 --repair-model ${info.id}\`).`);
  }
  if (info.card?.task === 'fill') {
    throw new StudioError('MODEL_INVALID', `"${info.name}" is a damage filler, not a restoration model. The repair stage uses it for the holes it fills (\`studio restore --repair 0.5 --fill-model ${info.id}\`).`);
  }
  const channels = inputShape[3];
  if (channels !== 3 && channels !== 1) {
    throw new StudioError('MODEL_INVALID', `"${info.name}" takes ${channels ?? 'an unknown number of'} channels; restoration needs an RGB (3) or grayscale (1) model.`);
  }
  if (outShape[3] !== channels) {
    throw new StudioError('MODEL_INVALID', `"${info.name}" outputs ${outShape[3]} channels for ${channels} in; a restoration model gives back the channels it takes.`);
  }
  const fixedH = inputShape[1];
  const fixedW = inputShape[2];
  const fixedSize = typeof fixedH === 'number' && typeof fixedW === 'number' ? ([fixedH, fixedW] as const) : null;
  const analysis = analyseLayers(model);
  const multiple = Math.max(analysis.multiple, info.card?.architecture.requiredMultiple ?? 1);
  const scale = info.card?.scale ?? measureScale(model, info.name, channels, fixedSize, multiple);
  const run: TileModel = (x) =>
    tf.tidy(() => {
      const [, h, w] = x.shape;
      let input: tf.Tensor4D = channels === 1 ? tf.transpose(x, [3, 1, 2, 0]) : x;
      if (fixedSize) input = symmetricPadTo(input, fixedSize[0], fixedSize[1]);
      let y = model.predict(input) as tf.Tensor4D;
      if (y.shape[1] < h * scale || y.shape[2] < w * scale || y.shape[3] !== channels) {
        throw new StudioError(
          'MODEL_INVALID',
          `"${info.name}" turned a ${h}x${w} input into ${y.shape[1]}x${y.shape[2]}x${y.shape[3]}; ` +
            (scale === 1 ? 'a restoration model keeps the size.' : `a ${scale}x upscaler gives ${h * scale}x${w * scale}x${channels}.`),
        );
      }
      if (y.shape[1] !== h * scale || y.shape[2] !== w * scale) y = tf.slice(y, [0, 0, 0, 0], [-1, h * scale, w * scale, -1]);
      if (channels === 1) y = tf.transpose(y, [3, 1, 2, 0]);
      return y;
    });
  return {
    id: info.id,
    name: info.name,
    fingerprint: info.fingerprint,
    run,
    scale,
    macsPerPixel: info.card?.macsPerPixel ?? null,
    multiple,
    receptiveRadius: analysis.receptiveRadius,
    bytesPerPixel: analysis.bytesPerPixel * (channels === 1 ? 3 : 1),
    fixedSize,
    dispose: () => model.dispose(),
  };
}

/**
 * An upscaler's factor when its card does not say: the output size over the input size on a small input
 * (two of the model's multiples, so no internal padding blurs the ratio). Cheap: a few thousand pixels.
 * A ratio that is not a whole number, or differs between the axes, is not something the tiler can stitch.
 */
function measureScale(model: tfl.LayersModel, name: string, channels: number, fixedSize: readonly [number, number] | null, multiple: number): number {
  const [h, w] = fixedSize ?? [Math.max(8, 2 * multiple), Math.max(8, 2 * multiple)];
  const [outH, outW] = tf.tidy(() => {
    const y = model.predict(tf.zeros([1, h, w, channels])) as tf.Tensor;
    return [y.shape[1] ?? 0, y.shape[2] ?? 0];
  });
  if (outH <= h || outW <= w) return 1; // the same size (or smaller, which run() reports with the sizes)
  const scale = outH / h;
  if (!Number.isInteger(scale) || outW / w !== scale || scale > 16) {
    throw new StudioError(
      'MODEL_INVALID',
      `"${name}" turned a ${h}x${w} input into ${outH}x${outW}; an upscaler must enlarge both sides by the same whole factor (2, 4, 8 ...).`,
    );
  }
  return scale;
}

/** Finds and loads the restoration model for a --model value (default: the bundled old-photo model). */
export async function loadRestoreModel(spec?: string, lookup: ModelLookup = {}): Promise<RestoreModel> {
  if (spec === NO_MODEL) return passThroughModel();
  return loadImageModel(await resolveModelDir(spec, 'restore', lookup), false);
}

/** NO_MODEL: the photo as it is (a copy, so callers may dispose input and output apart), for repair or tone alone. */
export function passThroughModel(): RestoreModel {
  return {
    id: NO_MODEL,
    name: 'No model (repair and tone only)',
    fingerprint: NO_MODEL,
    run: (input) => tf.clone(input),
    scale: 1,
    macsPerPixel: 0,
    multiple: 1,
    receptiveRadius: 0,
    bytesPerPixel: 2 * 3 * 4,
    fixedSize: null,
    dispose: () => {},
  };
}

/** Finds and loads a damage detector (a package whose task is "detect"; default the bundled one). */
export async function loadDamageDetector(spec: string = DEFAULT_DAMAGE_MODEL, lookup: ModelLookup = {}): Promise<RestoreModel> {
  const dir = await resolveModelDir(spec, 'restore', lookup);
  return loadImageModel(dir, true);
}

async function loadImageModel(dir: string, detector: boolean): Promise<RestoreModel> {
  const loaded = await loadModelDir(dir);
  try {
    if (detector && loaded.card?.task !== 'detect') {
      throw new StudioError(
        'MODEL_INVALID',
        `"${loaded.name}" (${dir}) is not a damage detector: its card says its task is "${loaded.card?.task ?? 'unknown (no card.json)'}". Train one with the damage-unet architecture on the old-photo-damage preset.`,
      );
    }
    const wrapped = wrapLayersModel(loaded.model, { ...loaded, detector });
    probe(wrapped);
    return wrapped;
  } catch (error) {
    loaded.model.dispose();
    throw error;
  }
}

/** Runs the model once on a small input so a model that changes the image size fails before any file. */
function probe(model: RestoreModel): void {
  const size = model.fixedSize ? Math.min(...model.fixedSize) : Math.max(8, model.multiple * 2);
  tf.tidy(() => {
    model.run(tf.zeros([1, size, size, 3]) as tf.Tensor4D);
  });
}
