// ImageNet VGG16 weights for the zoo's vgg16-restorer: its encoder layers carry Keras' VGG16 names
// (block1_conv1 … block3_conv3), so the weights of Keras' `vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5`
// (weights-only layout) or of a full VGG16 model .h5 load into them by name. Keras 3 files load too: a
// .keras archive by the names in its config.json, a bare .weights.h5 (layers/conv2d, conv2d_1 ...) by
// order, since Keras 3 numbers layers by class: the first seven Conv2D of a VGG16 are blocks 1-3 (the
// shapes are checked, so a file of another network is refused).
//
// Keras' VGG16 expects 'caffe' inputs: BGR, 0–255, minus the ImageNet channel means. The restorer takes RGB
// in [0, 1], so by default that preprocessing is folded into block1_conv1 (exact away from the image border,
// where 'same' padding pads with 0 instead of −mean):
//   W'[y, x, c_rgb, o] = 255 · W[y, x, bgr(c_rgb), o]        b'[o] = b[o] − Σ_{y,x,c} W[y, x, c, o] · mean_bgr[c]
import type * as tfl from '@tensorflow/tfjs-layers';
import { StudioError } from '#shared/rpc/errors';
import { assignLayerWeights } from './model';
import type { File as H5File } from 'h5wasm';
import { modelInvalid, openH5, readLayerWeights, weightsRoot, type H5Weight } from './h5';
import { isKeras3Weights, isKerasArchive, keras3WeightsByConfig, keras3WeightsByKey, openKerasArchive, type WeightSource } from './keras3';

export const VGG16_ENCODER_LAYERS = [
  'block1_conv1',
  'block1_conv2',
  'block2_conv1',
  'block2_conv2',
  'block3_conv1',
  'block3_conv2',
  'block3_conv3',
] as const;

/** ImageNet channel means in BGR order, on the 0–255 scale (Keras' 'caffe' mode). */
export const CAFFE_MEAN_BGR = [103.939, 116.779, 123.68] as const;

/** Folds the caffe preprocessing into the first conv's kernel [kh, kw, 3, out] and bias [out]. */
export function foldCaffePreprocessing(kernel: H5Weight, bias: H5Weight): [H5Weight, H5Weight] {
  const [kh, kw, cin, cout] = kernel.shape as [number, number, number, number];
  if (cin !== 3 || bias.shape[0] !== cout) throw new StudioError('INTERNAL', 'The caffe fold needs a 3-channel first conv.');
  const k = new Float32Array(kernel.values.length);
  const b = Float32Array.from(bias.values);
  for (let y = 0; y < kh; y++) {
    for (let x = 0; x < kw; x++) {
      for (let c = 0; c < 3; c++) {
        const src = 2 - c; // RGB channel c reads the BGR channel 2 - c
        for (let o = 0; o < cout; o++) {
          const w = kernel.values[((y * kw + x) * 3 + src) * cout + o]!;
          k[((y * kw + x) * 3 + c) * cout + o] = 255 * w;
          b[o]! -= w * CAFFE_MEAN_BGR[src]!;
        }
      }
    }
  }
  return [
    { ...kernel, values: k },
    { ...bias, values: b },
  ];
}

export interface Vgg16LoadOptions {
  /** Fold Keras' caffe preprocessing into block1_conv1 (default true). */
  foldPreprocessing?: boolean;
}

/** Loads VGG16 weights into the layers of `model` named block1_conv1 … block3_conv3. Returns their names. */
export async function loadVgg16Weights(model: tfl.LayersModel, path: string, options: Vgg16LoadOptions = {}): Promise<string[]> {
  const targets = VGG16_ENCODER_LAYERS.map((name) => {
    try {
      return model.getLayer(name);
    } catch {
      throw new StudioError('BAD_INPUT', `VGG16 weights need a model with a ${name} layer (the vgg16-restorer architecture).`);
    }
  });
  const opened = await openVgg16Source(path);
  try {
    const { source } = opened;
    const present = new Set(source.layerNames);
    const missing = VGG16_ENCODER_LAYERS.filter((n) => !present.has(n));
    if (missing.length > 0) {
      throw modelInvalid(path, `has no weights for ${missing.join(', ')}; a Keras VGG16 weights file (e.g. vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5) was expected.`);
    }
    for (const layer of targets) {
      let weights = source.read(layer.name);
      if (weights.length !== 2) throw modelInvalid(path, `layer ${layer.name} has ${weights.length} weights; VGG16 convs have a kernel and a bias.`);
      if (layer.name === 'block1_conv1' && (options.foldPreprocessing ?? true)) {
        const [kernel, bias] = weights as [H5Weight, H5Weight];
        if (kernel.shape.length !== 4 || kernel.shape[2] !== 3) {
          throw modelInvalid(path, `block1_conv1's kernel has shape [${kernel.shape.join(', ')}]; an RGB VGG16 has [3, 3, 3, 64].`);
        }
        weights = foldCaffePreprocessing(kernel, bias);
      }
      assignLayerWeights(path, layer, weights);
    }
    return [...VGG16_ENCODER_LAYERS];
  } finally {
    await opened.close();
  }
}

/** The file's VGG16 weights by Keras layer name, whichever Keras wrote it. */
async function openVgg16Source(path: string): Promise<{ source: WeightSource; close: () => Promise<void> }> {
  if (await isKerasArchive(path)) {
    const archive = await openKerasArchive(path);
    try {
      return { source: keras3WeightsByConfig(path, archive.weights, archive.config), close: archive.close };
    } catch (error) {
      await archive.close();
      throw error;
    }
  }
  const file = await openH5(path);
  const close = async (): Promise<void> => {
    file.close();
  };
  try {
    if (isKeras3Weights(file)) return { source: vgg16ByOrder(path, file), close };
    const { group, layerNames } = weightsRoot(path, file);
    return { source: { layerNames, read: (layer) => readLayerWeights(path, group, layer) }, close };
  } catch (error) {
    file.close();
    throw error;
  }
}

/** A Keras 3 weights-only file: its Conv2D keys in order stand for block1_conv1 ... block3_conv3. */
function vgg16ByOrder(path: string, file: H5File): WeightSource {
  const bare = keras3WeightsByKey(path, file);
  if (bare.keyedByName) return bare; // tf.keras 2.13-2.15: the groups carry the layer names
  const convs = bare.keysOf('Conv2D');
  const names = VGG16_ENCODER_LAYERS.slice(0, convs.length);
  return {
    layerNames: [...names],
    read: (layer) => {
      const key = convs[VGG16_ENCODER_LAYERS.indexOf(layer as (typeof VGG16_ENCODER_LAYERS)[number])];
      if (key === undefined) throw modelInvalid(path, `has no weights for ${layer}.`);
      return bare.read(key).map((w, i) => ({ ...w, name: `${layer}/${i}` }));
    },
  };
}
