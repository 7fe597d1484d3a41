// A tiny NAFNet (Chen et al. 2022, "Simple Baselines for Image Restoration"): a U-shaped net of NAF blocks.
//   NAF block: LayerNorm -> 1x1 conv (2c) -> 3x3 depthwise conv -> SimpleGate (c) -> simplified channel
//   attention -> 1x1 conv, added back scaled by a learnable per-channel beta (starting at 0); then
//   LayerNorm -> 1x1 conv (2c) -> SimpleGate -> 1x1 conv, added back scaled by gamma.
// Downsampling: 2x2 conv stride 2 (doubling channels); upsampling: 1x1 conv (2c, no bias) + pixel-shuffle
// (halving channels), with additive skips; a global residual. No activations besides the gates.
// LayerNorm is tfjs-layers' layerNormalization over channels; SimpleGate, channel attention, the scales and
// pixel-shuffle are the custom layers of ./layers (registered for serialisation). Pads to 2^levels.
import * as tfl from '@tensorflow/tfjs-layers';
import { defineArchitecture, intParam, num } from './types';
import { add, asSym, conv, cropToRef, imageInput, padTo } from './blocks';
import { channelAttention, layerScale, pixelShuffle, simpleGate } from './layers';

type Sym = tfl.SymbolicTensor;

function layerNorm(x: Sym, name: string): Sym {
  return asSym(tfl.layers.layerNormalization({ axis: -1, epsilon: 1e-6, name }).apply(x));
}

function nafBlock(x: Sym, c: number, k: number, name: string): Sym {
  let y = layerNorm(x, `${name}_norm1`);
  y = conv(y, 2 * c, 1, { name: `${name}_conv1` });
  y = asSym(
    tfl.layers.depthwiseConv2d({ kernelSize: k, depthMultiplier: 1, padding: 'same', name: `${name}_dwconv` }).apply(y),
  );
  y = simpleGate(y, `${name}_gate1`);
  y = channelAttention(y, `${name}_sca`);
  y = conv(y, c, 1, { name: `${name}_conv3` });
  const x1 = add([x, layerScale(y, 0, `${name}_beta`)], `${name}_add1`);
  let z = layerNorm(x1, `${name}_norm2`);
  z = conv(z, 2 * c, 1, { name: `${name}_conv4` });
  z = simpleGate(z, `${name}_gate2`);
  z = conv(z, c, 1, { name: `${name}_conv5` });
  return add([x1, layerScale(z, 0, `${name}_gamma`)], `${name}_add2`);
}

export const nafnetTiny = defineArchitecture({
  id: 'nafnet-tiny',
  name: 'NAFNet (tiny)',
  description:
    'A few NAF blocks (LayerNorm, SimpleGate, simplified channel attention) in a small U-shape: the modern baseline, strong per parameter. Pads to a multiple of 2^levels.',
  task: 'restore',
  padsInternally: true,
  hyperParams: [
    intParam('width', 'Width', 16, 4, 64, 'Channels at full resolution; each level doubles them.'),
    intParam('levels', 'Levels', 2, 0, 4, 'Number of down/up-sampling levels.'),
    intParam('encBlocks', 'Encoder blocks', 1, 0, 4, 'NAF blocks per encoder level.'),
    intParam('middleBlocks', 'Middle blocks', 1, 0, 8, 'NAF blocks at the lowest resolution.'),
    intParam('decBlocks', 'Decoder blocks', 1, 0, 4, 'NAF blocks per decoder level.'),
    intParam('kernelSize', 'Depthwise kernel', 3, 1, 7, 'Kernel size of the depthwise convs.'),
  ],
  requiredMultiple: (h) => 2 ** num(h, 'levels'),
  build(hyper, { channels, height, width, name }) {
    const w = num(hyper, 'width');
    const levels = num(hyper, 'levels');
    const k = num(hyper, 'kernelSize');
    const input = imageInput(channels, height, width);
    const x0 = padTo(input, 2 ** levels);
    let x = conv(x0, w, 3, { name: 'intro' });
    const skips: Sym[] = [];
    let c = w;
    for (let i = 0; i < levels; i++) {
      for (let b = 0; b < num(hyper, 'encBlocks'); b++) x = nafBlock(x, c, k, `enc${i + 1}_block${b + 1}`);
      skips.push(x);
      x = conv(x, 2 * c, 2, { strides: 2, padding: 'valid', name: `enc${i + 1}_down` });
      c *= 2;
    }
    for (let b = 0; b < num(hyper, 'middleBlocks'); b++) x = nafBlock(x, c, k, `middle_block${b + 1}`);
    for (let i = levels - 1; i >= 0; i--) {
      x = conv(x, 2 * c, 1, { useBias: false, name: `dec${i + 1}_up_conv` });
      x = pixelShuffle(x, 2, `dec${i + 1}_up_shuffle`);
      c /= 2;
      x = add([x, skips[i]!], `dec${i + 1}_skip`);
      for (let b = 0; b < num(hyper, 'decBlocks'); b++) x = nafBlock(x, c, k, `dec${i + 1}_block${b + 1}`);
    }
    x = conv(x, channels, 3, { name: 'ending' });
    x = add([x, x0], 'residual');
    return tfl.model({ inputs: input, outputs: cropToRef(x, input), name });
  },
});
