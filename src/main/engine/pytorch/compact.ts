// Real-ESRGAN Compact (SRVGGNetCompact): body.0 conv, then (PReLU, conv) pairs at body.1, body.2 …, the
// last conv giving 3·s² channels, a pixel shuffle by s, plus the input upsampled (nearest) by s. Features
// from body.0, convs from the highest body index, scale from the last conv's output channels.
import * as tfl from '@tensorflow/tfjs-layers';
import { StudioError } from '#shared/rpc/errors';
import { pixelShuffle } from '../models/layers';
import { add, GraphBuilder, nearest, shufflePermutation, Weights } from './convert';
import type { StateDict } from './tensor';

export interface CompactSpec {
  features: number;
  convs: number;
  scale: number;
  /** Index of the last conv in body. */
  lastIndex: number;
}

/** True when the keys are SRVGGNetCompact's (body.N.weight only, a rank-1 weight at body.1). */
export function isCompact(state: StateDict): boolean {
  const first = state.get('body.0.weight');
  const act = state.get('body.1.weight');
  return !!first && first.shape.length === 4 && !!act && act.shape.length === 1 && [...state.keys()].every((k) => /^body\.\d+\.(weight|bias)$/.test(k));
}

export function compactSpec(weights: Weights): CompactSpec {
  const { file, state } = weights;
  const indices = [...state.keys()].map((k) => Number(/^body\.(\d+)\./.exec(k)![1]));
  const lastIndex = Math.max(...indices);
  if (lastIndex % 2 !== 0) throw new StudioError('MODEL_INVALID', `${file}: looks like Real-ESRGAN Compact but ends with an activation (body.${lastIndex}).`);
  for (let i = 1; i < lastIndex; i += 2) {
    if (!state.has(`body.${i}.weight`)) {
      throw new StudioError('MODEL_INVALID', `${file}: is a Real-ESRGAN Compact model without PReLU weights at body.${i}; only the PReLU variant is rebuilt.`);
    }
  }
  const first = weights.get('body.0.weight', 4);
  const last = weights.get(`body.${lastIndex}.weight`, 4);
  if (first.shape[1] !== 3) {
    throw new StudioError('MODEL_INVALID', `${file}: is a Real-ESRGAN Compact model with ${first.shape[1]} input channels; the studio restores RGB photos (3 channels).`);
  }
  const scale = Math.round(Math.sqrt(last.shape[0]! / 3));
  if (scale < 1 || 3 * scale * scale !== last.shape[0]) {
    throw new StudioError('MODEL_INVALID', `${file}: its last conv gives ${last.shape[0]} channels, which is not 3 x scale² for any scale.`);
  }
  return { features: first.shape[0]!, convs: lastIndex / 2 - 1, scale, lastIndex };
}

export function buildCompact(weights: Weights, spec: CompactSpec): { model: tfl.LayersModel; macsPerPixel: number } {
  const g = new GraphBuilder(weights);
  const model = g.make(`compact_x${spec.scale}`, (input) => {
    let x: tfl.SymbolicTensor = input;
    for (let i = 0; i < spec.lastIndex; i += 2) {
      x = g.conv(x, `body.${i}`, `conv${i / 2}`, 1);
      x = g.prelu(x, `body.${i + 1}`, `prelu${i / 2}`);
    }
    const s = spec.scale;
    // PyTorch's pixel_shuffle reads channel c·s² + i·s + j; the studio's PixelShuffle (depth_to_space) reads
    // (i·s + j)·3 + c, so the last conv's filters are put in that order.
    x = g.conv(x, `body.${spec.lastIndex}`, 'conv_last', 1, s > 1 ? { outPerm: shufflePermutation(3, s) } : {});
    const base = s > 1 ? nearest(input, s, 'upsample_input') : input;
    if (s > 1) x = pixelShuffle(x, s, 'pixel_shuffle');
    return add([x, base], 'add_input');
  });
  return { model, macsPerPixel: g.macs };
}
