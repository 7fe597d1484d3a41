// FFDNet-style denoiser: pixel-unshuffle by 2 (space-to-depth, 4x the channels at half resolution), a plain
// conv stack, conv back to 4x channels, pixel-shuffle to full resolution. Working at half resolution makes it
// about 4x cheaper per pixel than DnCNN at the same width and doubles its receptive field.
//
// Noise level: with noiseInput 'blind' (default) the net estimates the degradation itself, which is what the
// training pipeline supplies (degraded/clean pairs without a sigma). With 'fixed', FFDNet's noise-level map
// is appended after the unshuffle as a constant channel of noiseSigma/255 (NoiseLevelMap layer); the value is
// stored in model.json and can be edited there to tune the strength of a trained model.
// With `residual` (default) the output is input - prediction (as DnCNN); off, the net outputs the image as in
// the FFDNet paper. Pads internally to even sizes.
import * as tfl from '@tensorflow/tfjs-layers';
import {
  activationParam,
  bool,
  boolParam,
  defineArchitecture,
  enumParam,
  intParam,
  num,
  numberParam,
  str,
} from './types';
import { conv, cropToRef, hiddenConvs, imageInput, padTo } from './blocks';
import { noiseLevelMap, pixelShuffle, pixelUnshuffle, subtract } from './layers';

export const ffdnet = defineArchitecture({
  id: 'ffdnet',
  name: 'FFDNet',
  description:
    'Denoiser working at half resolution after pixel-unshuffle, with an optional fixed noise-level map input. About 4x cheaper per pixel than DnCNN; pads to even sizes.',
  task: 'restore',
  padsInternally: true,
  hyperParams: [
    intParam('depth', 'Depth', 10, 3, 30, 'Number of conv layers at half resolution.'),
    intParam('filters', 'Filters', 64, 8, 192, 'Filters per hidden conv.'),
    intParam('kernelSize', 'Kernel size', 3, 1, 7, 'Kernel size of every conv.'),
    enumParam('noiseInput', 'Noise level input', 'blind', ['blind', 'fixed'], "'blind': no noise map; 'fixed': append a constant noise-level map channel."),
    numberParam('noiseSigma', 'Noise sigma', 15, 0, 100, "Noise level (0-255 scale) of the map when noiseInput is 'fixed'."),
    boolParam('batchNorm', 'Batch norm', false, 'Batch normalisation after the hidden convs.'),
    boolParam('residual', 'Residual', true, 'Predict the degradation and subtract it (else predict the image).'),
    activationParam('relu'),
  ],
  requiredMultiple: () => 2,
  build(hyper, { channels, height, width, name }) {
    const depth = num(hyper, 'depth');
    const f = num(hyper, 'filters');
    const k = num(hyper, 'kernelSize');
    const act = str(hyper, 'activation');
    const input = imageInput(channels, height, width);
    const padded = padTo(input, 2);
    let x = pixelUnshuffle(padded, 2, 'unshuffle');
    if (str(hyper, 'noiseInput') === 'fixed') x = noiseLevelMap(x, num(hyper, 'noiseSigma'), 'noise_map');
    x = conv(x, f, k, { activation: act, name: 'conv1' });
    x = hiddenConvs(x, { first: 2, last: depth - 1, filters: f, kernelSize: k, activation: act, batchNorm: bool(hyper, 'batchNorm') });
    x = conv(x, 4 * channels, k, { name: `conv${depth}` });
    x = pixelShuffle(x, 2, 'shuffle');
    if (bool(hyper, 'residual')) x = subtract(padded, x, 'denoised');
    return tfl.model({ inputs: input, outputs: cropToRef(x, input), name });
  },
});
