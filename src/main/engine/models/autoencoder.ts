// The convolutional autoencoder from the source study (Keras): an encoder of conv + 2x2 max-pool levels
// (32, 64 filters by default) and a mirrored decoder of conv + UpSampling2D levels, ending in a conv to the
// image channels (sigmoid by default, as in the study). Pads internally to a multiple of 2^depth.
import * as tfl from '@tensorflow/tfjs-layers';
import {
  activationParam,
  defineArchitecture,
  enumParam,
  intParam,
  num,
  str,
} from './types';
import { conv, cropToRef, imageInput, maxPool, padTo, upSample } from './blocks';

export const autoencoder = defineArchitecture({
  id: 'autoencoder',
  name: 'Convolutional autoencoder',
  description:
    'Conv + max-pool encoder and conv + upsampling decoder without skips (the source study\'s autoencoder); a baseline that blurs fine detail.',
  task: 'restore',
  padsInternally: true,
  hyperParams: [
    intParam('filters', 'Base filters', 32, 4, 256, 'Filters of the first level; each deeper level doubles them.'),
    intParam('depth', 'Levels', 2, 1, 5, 'Number of pooling levels (the bottleneck is 2^depth times smaller).'),
    intParam('kernelSize', 'Kernel size', 3, 1, 9, 'Convolution kernel size.'),
    activationParam('relu'),
    enumParam('outputActivation', 'Output activation', 'sigmoid', ['sigmoid', 'linear'], 'Activation of the last convolution.'),
  ],
  requiredMultiple: (h) => 2 ** num(h, 'depth'),
  build(hyper, { channels, height, width, name }) {
    const f = num(hyper, 'filters');
    const depth = num(hyper, 'depth');
    const k = num(hyper, 'kernelSize');
    const act = str(hyper, 'activation');
    const input = imageInput(channels, height, width);
    let x = padTo(input, 2 ** depth);
    for (let i = 0; i < depth; i++) {
      x = conv(x, f * 2 ** i, k, { activation: act, name: `enc${i + 1}_conv` });
      x = maxPool(x, `enc${i + 1}_pool`);
    }
    for (let i = depth - 1; i >= 0; i--) {
      x = conv(x, f * 2 ** i, k, { activation: act, name: `dec${i + 1}_conv` });
      x = upSample(x, `dec${i + 1}_up`);
    }
    x = conv(x, channels, k, { activation: str(hyper, 'outputActivation'), name: 'output_conv' });
    return tfl.model({ inputs: input, outputs: cropToRef(x, input), name });
  },
});
