// The clean-vs-degraded classifier from the source study (Keras): four conv blocks of 32/64/128/128 filters
// (3x3, ReLU), each followed by 2x2 max-pooling, then flatten, dense 64 ReLU ("feature_dense") and a sigmoid
// unit: P(patch is degraded). Input size is fixed (flatten + dense); Keras' default 'valid' padding.
// `extractFeatures` returns the feature_dense activations (a 64-d descriptor of a patch).
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { StudioError } from '#shared/rpc/errors';
import { activationParam, defineArchitecture, enumParam, intParam, num, str, type HyperParams } from './types';
import { asSym } from './blocks';
import type { ActivationIdentifier } from '@tensorflow/tfjs-layers/dist/keras_format/activation_config';

export const FEATURE_LAYER = 'feature_dense';

function finalSize(hyper: HyperParams): number {
  let size = num(hyper, 'inputSize');
  const k = num(hyper, 'kernelSize');
  for (let i = 0; i < 4; i++) {
    if (str(hyper, 'padding') === 'valid') size -= k - 1;
    size = Math.floor(size / 2);
  }
  return size;
}

export const classifier = defineArchitecture({
  id: 'classifier',
  name: 'Clean vs degraded classifier',
  description:
    'Small CNN (4 conv + max-pool blocks, dense 64, sigmoid) that tells clean patches from degraded ones; its 64-d feature_dense activations describe a patch.',
  task: 'classify',
  padsInternally: false,
  hyperParams: [
    intParam('inputSize', 'Input size', 150, 16, 1024, 'Height and width of the square input patch (fixed: the net ends in dense layers).'),
    intParam('filters', 'Base filters', 32, 4, 256, 'Filters of the first block; the blocks use 1x, 2x, 4x, 4x this (32/64/128/128).'),
    intParam('kernelSize', 'Kernel size', 3, 1, 7, 'Convolution kernel size.'),
    enumParam('padding', 'Padding', 'valid', ['valid', 'same'], "Convolution padding ('valid' as in Keras' default)."),
    activationParam('relu'),
    intParam('denseUnits', 'Feature units', 64, 4, 1024, 'Units of the feature_dense layer.'),
  ],
  requiredMultiple: () => 1,
  probeSize: (h) => num(h, 'inputSize'),
  check: (h) =>
    finalSize(h) < 1 ? `inputSize ${num(h, 'inputSize')} is too small for four conv + pool blocks with ${str(h, 'padding')} padding.` : null,
  build(hyper, { channels, name }) {
    const size = num(hyper, 'inputSize');
    const f = num(hyper, 'filters');
    const act = str(hyper, 'activation') as ActivationIdentifier;
    const padding = str(hyper, 'padding') as 'same' | 'valid';
    const model = tfl.sequential({ name });
    [f, f * 2, f * 4, f * 4].forEach((filters, i) => {
      model.add(
        tfl.layers.conv2d({
          filters,
          kernelSize: num(hyper, 'kernelSize'),
          activation: act,
          padding,
          name: `conv${i + 1}`,
          ...(i === 0 ? { inputShape: [size, size, channels] } : {}),
        }),
      );
      model.add(tfl.layers.maxPooling2d({ poolSize: 2, name: `pool${i + 1}` }));
    });
    model.add(tfl.layers.flatten({ name: 'flatten' }));
    model.add(tfl.layers.dense({ units: num(hyper, 'denseUnits'), activation: act, name: FEATURE_LAYER }));
    model.add(tfl.layers.dense({ units: 1, activation: 'sigmoid', name: 'prediction' }));
    return model;
  },
});

const featureModels = new WeakMap<tfl.LayersModel, tfl.LayersModel>();

/**
 * feature_dense activations [n, units] of a classifier for images [n, size, size, c] in [0, 1].
 * The feature model shares the classifier's weights: dispose the classifier, never the feature model.
 */
export function extractFeatures(model: tfl.LayersModel, images: tf.Tensor4D): tf.Tensor2D {
  let features = featureModels.get(model);
  if (!features) {
    let layer: tfl.layers.Layer;
    try {
      layer = model.getLayer(FEATURE_LAYER);
    } catch {
      throw new StudioError('MODEL_INVALID', `The model "${model.name}" has no ${FEATURE_LAYER} layer to extract features from.`);
    }
    features = tfl.model({ inputs: model.inputs, outputs: asSym(layer.output), name: `${model.name}_features` });
    featureModels.set(model, features);
  }
  return features.predict(images) as tf.Tensor2D;
}
