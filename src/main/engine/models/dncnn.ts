// DnCNN-style residual denoiser: conv+act, (depth-2) x [conv (+BN) + act], conv to the image channels that
// predicts the noise/degradation; output = input - prediction. Fully convolutional, any size. Batch norm is
// off by default: with the tiny batches CPU training affords its statistics are noisy, and the residual
// formulation trains well without it.
import * as tfl from '@tensorflow/tfjs-layers';
import { activationParam, bool, boolParam, defineArchitecture, intParam, num, str } from './types';
import { conv, hiddenConvs, imageInput } from './blocks';
import { subtract } from './layers';

export const dncnn = defineArchitecture({
  id: 'dncnn',
  name: 'DnCNN',
  description:
    'Residual denoiser: a plain stack of 3x3 convs predicts the noise, which is subtracted from the input. Robust, light enough for CPU training; any size.',
  task: 'restore',
  padsInternally: false,
  hyperParams: [
    intParam('depth', 'Depth', 12, 3, 30, 'Number of conv layers (the original uses 17).'),
    intParam('filters', 'Filters', 48, 8, 128, 'Filters per hidden conv.'),
    intParam('kernelSize', 'Kernel size', 3, 1, 7, 'Kernel size of every conv.'),
    boolParam('batchNorm', 'Batch norm', false, 'Batch normalisation after the hidden convs (needs batches of 8+ to help).'),
    activationParam('relu'),
  ],
  requiredMultiple: () => 1,
  build(hyper, { channels, height, width, name }) {
    const depth = num(hyper, 'depth');
    const f = num(hyper, 'filters');
    const k = num(hyper, 'kernelSize');
    const act = str(hyper, 'activation');
    const input = imageInput(channels, height, width);
    let x = conv(input, f, k, { activation: act, name: 'conv1' });
    x = hiddenConvs(x, { first: 2, last: depth - 1, filters: f, kernelSize: k, activation: act, batchNorm: bool(hyper, 'batchNorm') });
    const noise = conv(x, channels, k, { name: `conv${depth}_noise` });
    return tfl.model({ inputs: input, outputs: subtract(input, noise, 'denoised'), name });
  },
});
