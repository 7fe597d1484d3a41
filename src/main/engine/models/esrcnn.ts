// ESRCNN (expanded SRCNN, as in the Keras source study): conv 64 9x9 ReLU, then three parallel branches of
// 32 filters (1x1, 3x3, 5x5, ReLU) averaged with tf.layers.average, then a linear 5x5 conv to the image
// channels. Fully convolutional with 'same' padding: any input size. 89,795 parameters for RGB.
import * as tfl from '@tensorflow/tfjs-layers';
import { activationParam, defineArchitecture, intParam, num, str } from './types';
import { asSym, conv, imageInput } from './blocks';

export const esrcnn = defineArchitecture({
  id: 'esrcnn',
  name: 'ESRCNN',
  description:
    'Expanded SRCNN: a 9x9 feature conv, three parallel 1x1/3x3/5x5 mapping branches averaged, and a 5x5 reconstruction conv. Small and fast; runs on any size.',
  task: 'restore',
  padsInternally: false,
  hyperParams: [
    intParam('filters', 'Feature filters', 64, 4, 256, 'Filters of the first (feature extraction) conv.'),
    intParam('branchFilters', 'Branch filters', 32, 4, 256, 'Filters of each of the three parallel mapping branches.'),
    intParam('firstKernel', 'First kernel', 9, 1, 11, 'Kernel size of the feature extraction conv.'),
    intParam('lastKernel', 'Last kernel', 5, 1, 11, 'Kernel size of the reconstruction conv.'),
    activationParam('relu'),
  ],
  requiredMultiple: () => 1,
  build(hyper, { channels, height, width, name }) {
    const act = str(hyper, 'activation');
    const input = imageInput(channels, height, width);
    const features = conv(input, num(hyper, 'filters'), num(hyper, 'firstKernel'), { activation: act, name: 'level1' });
    const branches = [1, 3, 5].map((k, i) =>
      conv(features, num(hyper, 'branchFilters'), k, { activation: act, name: `level2_${i + 1}` }),
    );
    const merged = asSym(tfl.layers.average({ name: 'level2_average' }).apply(branches));
    const output = conv(merged, channels, num(hyper, 'lastKernel'), { name: 'output' });
    return tfl.model({ inputs: input, outputs: output, name });
  },
});
