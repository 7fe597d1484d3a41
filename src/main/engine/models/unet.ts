// A small U-Net: `depth` levels of two convs + 2x2 max-pool, a bottleneck, and a decoder of 2x2 transposed
// convs, concatenated skips and two convs per level; a 1x1 conv to the image channels, plus the input when
// residual. Pads internally to a multiple of 2^depth.
import * as tfl from '@tensorflow/tfjs-layers';
import { type BuildOptions, type HyperParams, activationParam, bool, boolParam, defineArchitecture, intParam, num, str } from './types';
import { add, asSym, concat, conv, cropToRef, imageInput, maxPool, padTo } from './blocks';
import { maskedResidual } from './layers';

const SHARED_PARAMS = [
  intParam('filters', 'Base filters', 16, 4, 128, 'Filters of the first level; each deeper level doubles them.'),
  intParam('depth', 'Levels', 3, 1, 5, 'Number of pooling levels.'),
  intParam('kernelSize', 'Kernel size', 3, 1, 7, 'Kernel size of the convs.'),
  activationParam('relu'),
];

export const unet = defineArchitecture({
  id: 'unet',
  name: 'U-Net (small)',
  description:
    'Encoder-decoder with concatenated skips: a large receptive field at low cost, good for blotches, stains and heavy compression. Pads to a multiple of 2^depth.',
  task: 'restore',
  padsInternally: true,
  hyperParams: [
    ...SHARED_PARAMS,
    boolParam('residual', 'Global residual', true, 'Add the input to the output.'),
  ],
  requiredMultiple: (h) => 2 ** num(h, 'depth'),
  build: (hyper, shape) => buildUnet(hyper, shape, { residual: bool(hyper, 'residual'), outputActivation: 'linear' }),
});

/**
 * The damage detector: the same U-Net ending in a sigmoid, trained to output where the synthesis drew
 * scratches, dust, cracks and other defects (a per-pixel probability, repeated in the three channels; see
 * data/target.ts). Its receptive field (about 2^depth × 10 px) sees a scratch against its surroundings.
 */
const DAMAGE_PRIOR_LOGIT = Math.log(0.01 / 0.99);

export const damageUnet = defineArchitecture({
  id: 'damage-unet',
  name: 'Damage detector (U-Net)',
  description:
    'Finds scratches, dust, specks, cracks, hairs and worn edges: a per-pixel damage probability. Trained on clean photos with the old-photo-damage synthesis.',
  task: 'detect',
  padsInternally: true,
  hyperParams: SHARED_PARAMS,
  requiredMultiple: (h) => 2 ** num(h, 'depth'),
  // The output starts at the prior (about 1% of pixels damaged, sigmoid(-4.6)) rather than 0.5 everywhere,
  // so the first steps are not spent unlearning a flood of false alarms (the RetinaNet initialisation).
  build: (hyper, shape) => buildUnet(hyper, shape, { residual: false, outputActivation: 'sigmoid', outputBias: DAMAGE_PRIOR_LOGIT }),
});

/**
 * The mask-conditioned filler: the photo (its damage already interpolated by pull-push, infer/fill.ts) and the
 * damage mask in one more channel go in; the U-Net predicts a correction that is applied only where the mask
 * is set (MaskedResidual), so texture and edges are carried into the hole from its surroundings and every
 * pixel outside the mask comes out exactly as it went in. Trained on the old-photo damage synthesis with the
 * mask the synthesis drew (data/target.ts).
 */
export const fillUnet = defineArchitecture({
  id: 'fill-unet',
  name: 'Damage filler (U-Net, photo + mask)',
  description:
    'Fills the pixels a damage mask marks (scratches, dust, cracks, flakes) from their surroundings and leaves every other pixel exactly as it was. Takes the photo and the mask; trained with the old-photo-damage synthesis.',
  task: 'fill',
  padsInternally: true,
  hyperParams: [
    ...SHARED_PARAMS,
    boolParam(
      'seesOriginal',
      'Sees the original pixels',
      false,
      'Also takes the photo as it came in (three more channels), and learns to keep the pixels a detector flagged on an undamaged photo.',
    ),
  ],
  requiredMultiple: (h) => 2 ** num(h, 'depth'),
  build: (hyper, shape) =>
    buildUnet(hyper, shape, { residual: false, outputActivation: 'linear', maskInput: true, originalInput: bool(hyper, 'seesOriginal') }),
});

/**
 * The channels a model of this task takes for `channels` image channels: one more (the mask) for a filler,
 * and the original photo's channels again for one that sees them.
 */
export function inputChannelsFor(task: string, channels = 3, hyper: HyperParams = {}): number {
  if (task !== 'fill') return channels;
  return channels + 1 + (hyper.seesOriginal === true ? channels : 0);
}

/** The U-Net graph; `outputActivation` 'sigmoid' makes it a per-pixel probability map (damage detection). */
export function buildUnet(
  hyper: HyperParams,
  { channels, height, width, name }: Required<BuildOptions>,
  head: { residual: boolean; outputActivation: 'linear' | 'sigmoid'; outputBias?: number; maskInput?: boolean; originalInput?: boolean },
): tfl.LayersModel {
  const f = num(hyper, 'filters');
  const depth = num(hyper, 'depth');
  const k = num(hyper, 'kernelSize');
  const o = { activation: str(hyper, 'activation') };
  // A filler's input: the photo to correct, the mask, then (originalInput) the photo as it came in.
  const input = imageInput(channels + (head.maskInput ? 1 : 0) + (head.originalInput ? channels : 0), height, width);
  const x0 = padTo(input, 2 ** depth);
  let x = x0;
  const skips: tfl.SymbolicTensor[] = [];
  for (let i = 0; i < depth; i++) {
    x = conv(x, f * 2 ** i, k, { ...o, name: `enc${i + 1}_conv1` });
    x = conv(x, f * 2 ** i, k, { ...o, name: `enc${i + 1}_conv2` });
    skips.push(x);
    x = maxPool(x, `enc${i + 1}_pool`);
  }
  x = conv(x, f * 2 ** depth, k, { ...o, name: 'bottleneck_conv1' });
  x = conv(x, f * 2 ** depth, k, { ...o, name: 'bottleneck_conv2' });
  for (let i = depth - 1; i >= 0; i--) {
    x = asSym(
      tfl.layers.conv2dTranspose({ filters: f * 2 ** i, kernelSize: 2, strides: 2, padding: 'same', name: `dec${i + 1}_up` }).apply(x),
    );
    x = concat([x, skips[i]!], `dec${i + 1}_concat`);
    x = conv(x, f * 2 ** i, k, { ...o, name: `dec${i + 1}_conv1` });
    x = conv(x, f * 2 ** i, k, { ...o, name: `dec${i + 1}_conv2` });
  }
  x = conv(x, channels, 1, { name: 'output_conv', activation: head.outputActivation, biasInit: head.outputBias });
  if (head.residual) x = add([x, x0], 'residual');
  if (head.maskInput) x = maskedResidual(x0, x, 'masked_residual');
  return tfl.model({ inputs: input, outputs: cropToRef(x, input), name });
}
