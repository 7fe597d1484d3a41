// DDSRCNN (deep denoising SRCNN, as in the Keras source study): a small encoder-decoder with Add skips.
//   conv f, conv f -> pool -> conv 2f, conv 2f -> pool -> conv 4f -> up -> conv 2f, conv 2f (+ skip)
//   -> up -> conv f, conv f (+ skip) -> conv 5x5 linear to the image channels.
// All hidden convs are 3x3 ReLU 'same'; MaxPooling2D and UpSampling2D by 2. With f = 64 and RGB that is
// exactly 1,113,475 parameters. Inputs are padded internally to a multiple of 4 and the output cropped back.
import * as tfl from '@tensorflow/tfjs-layers';
import { activationParam, defineArchitecture, intParam, num, str } from './types';
import { add, conv, cropToRef, imageInput, maxPool, padTo, upSample } from './blocks';

export const ddsrcnn = defineArchitecture({
  id: 'ddsrcnn',
  name: 'DDSRCNN',
  description:
    'Deep denoising SRCNN: two pooling levels (64/128/256 filters) with additive skips and a 5x5 reconstruction conv. Pads to a multiple of 4 internally.',
  task: 'restore',
  padsInternally: true,
  hyperParams: [
    intParam('filters', 'Base filters', 64, 4, 256, 'Filters of the first level; the next levels use 2x and 4x.'),
    intParam('kernelSize', 'Kernel size', 3, 1, 7, 'Kernel size of the hidden convs.'),
    intParam('outputKernel', 'Output kernel', 5, 1, 9, 'Kernel size of the reconstruction conv.'),
    activationParam('relu'),
  ],
  requiredMultiple: () => 4,
  build(hyper, { channels, height, width, name }) {
    const f = num(hyper, 'filters');
    const k = num(hyper, 'kernelSize');
    const o = { activation: str(hyper, 'activation') };
    const input = imageInput(channels, height, width);
    const x0 = padTo(input, 4);
    let c1 = conv(x0, f, k, { ...o, name: 'conv1_1' });
    c1 = conv(c1, f, k, { ...o, name: 'conv1_2' });
    let x = maxPool(c1, 'pool1');
    let c2 = conv(x, 2 * f, k, { ...o, name: 'conv2_1' });
    c2 = conv(c2, 2 * f, k, { ...o, name: 'conv2_2' });
    x = maxPool(c2, 'pool2');
    const c3 = conv(x, 4 * f, k, { ...o, name: 'conv3' });
    x = upSample(c3, 'up1');
    let c22 = conv(x, 2 * f, k, { ...o, name: 'conv4_1' });
    c22 = conv(c22, 2 * f, k, { ...o, name: 'conv4_2' });
    x = add([c2, c22], 'skip1');
    x = upSample(x, 'up2');
    let c12 = conv(x, f, k, { ...o, name: 'conv5_1' });
    c12 = conv(c12, f, k, { ...o, name: 'conv5_2' });
    x = add([c1, c12], 'skip2');
    x = conv(x, channels, num(hyper, 'outputKernel'), { name: 'output' });
    return tfl.model({ inputs: input, outputs: cropToRef(x, input), name });
  },
});
