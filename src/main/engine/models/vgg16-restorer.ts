// VGG16-encoder restorer (source study): the VGG16 layers up to block3_pool with Keras' layer names
// (block1_conv1 ... block3_pool, 3x3 ReLU convs, 64/128/256 filters) as the encoder, then a decoder:
//   conv 256 -> UpSampling2D -> Add(block3_conv3) -> Conv2DTranspose 128 /2 -> Add(block2_conv2) -> conv 128
//   -> Conv2DTranspose 64 /2 -> Add(block1_conv2) -> conv 64 -> conv 3x3 linear (+ input when residual).
// Randomly initialised; the encoder's names match Keras' VGG16 notop .h5 so ImageNet weights can be loaded
// into it later (that import also needs Keras' 'caffe' preprocessing, not applied here).
// Pads internally to a multiple of 8.
import * as tfl from '@tensorflow/tfjs-layers';
import { boolParam, bool, defineArchitecture } from './types';
import { add, asSym, conv, cropToRef, imageInput, padTo, upSample } from './blocks';

function transpose(x: tfl.SymbolicTensor, filters: number, name: string): tfl.SymbolicTensor {
  return asSym(
    tfl.layers
      .conv2dTranspose({ filters, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu', name })
      .apply(x),
  );
}

function pool(x: tfl.SymbolicTensor, name: string): tfl.SymbolicTensor {
  return asSym(tfl.layers.maxPooling2d({ poolSize: 2, strides: 2, name }).apply(x));
}

export const vgg16Restorer = defineArchitecture({
  id: 'vgg16-restorer',
  name: 'VGG16-encoder restorer',
  description:
    'VGG16 blocks 1-3 (Keras layer names) as encoder with an upsampling / transposed-conv decoder and additive skips. Heavy; pads to a multiple of 8.',
  task: 'restore',
  padsInternally: true,
  hyperParams: [boolParam('residual', 'Global residual', true, 'Add the input to the output (the net learns the correction).')],
  requiredMultiple: () => 8,
  build(hyper, { channels, height, width, name }) {
    const relu = { activation: 'relu' };
    const input = imageInput(channels, height, width, 'input_1');
    const x0 = padTo(input, 8);
    let x = conv(x0, 64, 3, { ...relu, name: 'block1_conv1' });
    const b1 = conv(x, 64, 3, { ...relu, name: 'block1_conv2' });
    x = pool(b1, 'block1_pool');
    x = conv(x, 128, 3, { ...relu, name: 'block2_conv1' });
    const b2 = conv(x, 128, 3, { ...relu, name: 'block2_conv2' });
    x = pool(b2, 'block2_pool');
    x = conv(x, 256, 3, { ...relu, name: 'block3_conv1' });
    x = conv(x, 256, 3, { ...relu, name: 'block3_conv2' });
    const b3 = conv(x, 256, 3, { ...relu, name: 'block3_conv3' });
    x = pool(b3, 'block3_pool');
    x = conv(x, 256, 3, { ...relu, name: 'dec3_conv' });
    x = upSample(x, 'dec3_up');
    x = add([x, b3], 'dec3_skip');
    x = transpose(x, 128, 'dec2_deconv');
    x = add([x, b2], 'dec2_skip');
    x = conv(x, 128, 3, { ...relu, name: 'dec2_conv' });
    x = transpose(x, 64, 'dec1_deconv');
    x = add([x, b1], 'dec1_skip');
    x = conv(x, 64, 3, { ...relu, name: 'dec1_conv' });
    x = conv(x, channels, 3, { name: 'output_conv' });
    if (bool(hyper, 'residual')) x = add([x, x0], 'residual');
    return tfl.model({ inputs: input, outputs: cropToRef(x, input), name });
  },
});
