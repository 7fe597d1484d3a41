// SPAN (Swift Parameter-free Attention Network, as chaiNNer's spandrel defines it): the input normalised
// as (x - mean) · 255 (unless the file has a "no_norm" key), conv_1, six attention blocks (SPAB: three
// convs with SiLU, then (out3 + x) · (sigmoid(out3) - 0.5)), conv_2, a 1x1 conv over four concatenated
// features, and a 3x3 conv + pixel shuffle. Every 3x3 conv is a Conv3XC: 1x1 → 3x3 → 1x1 plus a 1x1 skip,
// which PyTorch fuses into one 3x3 "eval_conv" at inference. The fusion is done here from the branch
// weights (a file's eval_conv can be stale: PyTorch refreshes it only when the model runs in eval mode).
import * as tfl from '@tensorflow/tfjs-layers';
import { StudioError } from '#shared/rpc/errors';
import { pixelShuffle } from '../models/layers';
import { add, concat, GraphBuilder, rescale, shufflePermutation, Weights } from './convert';
import type { StateDict, TorchTensor } from './tensor';

type Sym = tfl.SymbolicTensor;

const RGB_MEAN = [0.4488, 0.4371, 0.404];
const BLOCKS = 6;

export interface SpanSpec {
  features: number;
  scale: number;
  norm: boolean;
}

export function isSpan(state: StateDict): boolean {
  return state.has('conv_1.sk.weight') && state.has('block_1.c1_r.sk.weight') && state.has('upsampler.0.weight');
}

export function spanSpec(weights: Weights): SpanSpec {
  const { file } = weights;
  const sk = weights.get('conv_1.sk.weight', 4);
  if (sk.shape[1] !== 3) {
    throw new StudioError('MODEL_INVALID', `${file}: is a SPAN model with ${sk.shape[1]} input channels; the studio restores RGB photos (3 channels).`);
  }
  for (let b = 1; b <= BLOCKS; b++) weights.get(`block_${b}.c1_r.sk.weight`, 4);
  if (weights.has(`block_${BLOCKS + 1}.c1_r.sk.weight`)) {
    throw new StudioError('MODEL_INVALID', `${file}: is a SPAN variant with more than ${BLOCKS} blocks, which the studio does not rebuild yet.`);
  }
  const up = weights.get('upsampler.0.weight', 4).shape[0]!;
  const scale = Math.round(Math.sqrt(up / 3));
  if (scale < 1 || 3 * scale * scale !== up) {
    throw new StudioError('MODEL_INVALID', `${file}: its upsampler gives ${up} channels, which is not 3 x scale² for any scale.`);
  }
  return { features: sk.shape[0]!, scale, norm: !weights.has('no_norm') };
}

function tensor(shape: number[], data: Float32Array): TorchTensor {
  return { dtype: 'F32', shape, data };
}

/** Fuses a Conv3XC's branches into one 3x3 conv (OIHW weight and bias), exactly as its eval_conv. */
export function fuseConv3xc(weights: Weights, key: string): { weight: TorchTensor; bias: TorchTensor } {
  if (!weights.has(`${key}.conv.0.weight`)) {
    // Only the fused conv was kept: use it as it is.
    return { weight: weights.get(`${key}.eval_conv.weight`, 4), bias: weights.get(`${key}.eval_conv.bias`, 1) };
  }
  const w1 = weights.get(`${key}.conv.0.weight`, 4); // [m, i, 1, 1]
  const w2 = weights.get(`${key}.conv.1.weight`, 4); // [n, m, 3, 3]
  const w3 = weights.get(`${key}.conv.2.weight`, 4); // [o, n, 1, 1]
  const sk = weights.get(`${key}.sk.weight`, 4); // [o, i, 1, 1]
  const [m, i] = w1.shape as [number, number];
  const [n, m2, kh, kw] = w2.shape as [number, number, number, number];
  const [o, n2] = w3.shape as [number, number];
  if (m2 !== m || n2 !== n || sk.shape[0] !== o || sk.shape[1] !== i || kh !== 3 || kw !== 3) {
    throw new StudioError('MODEL_INVALID', `${weights.file}: the convs of "${key}" do not chain (shapes ${[w1, w2, w3, sk].map((t) => `[${t.shape.join(', ')}]`).join(', ')}).`);
  }
  const bias = (k: string, size: number): Float32Array => (weights.has(`${k}.bias`) ? weights.get(`${k}.bias`, 1).data : new Float32Array(size));
  const b1 = bias(`${key}.conv.0`, m);
  const b2 = bias(`${key}.conv.1`, n);
  const b3 = bias(`${key}.conv.2`, o);
  const bs = bias(`${key}.sk`, o);
  // W12[n, i, y, x] = Σ_m w2[n, m, y, x] · w1[m, i];  b12[n] = Σ_{m,y,x} w2[n, m, y, x] · b1[m] + b2[n]
  // (the training form pads the input with zeros before the first 1x1, so b1 reaches every tap).
  const taps = kh * kw;
  const w12 = new Float64Array(n * i * taps);
  const b12 = new Float64Array(n);
  for (let nn = 0; nn < n; nn++) {
    let bn = b2[nn]!;
    for (let mm = 0; mm < m; mm++) {
      for (let t = 0; t < taps; t++) {
        const w = w2.data[(nn * m + mm) * taps + t]!;
        bn += w * b1[mm]!;
        for (let ii = 0; ii < i; ii++) {
          const at = (nn * i + ii) * taps + t;
          w12[at] = w12[at]! + w * w1.data[mm * i + ii]!;
        }
      }
    }
    b12[nn] = bn;
  }
  const weight = new Float32Array(o * i * taps);
  const out = new Float32Array(o);
  for (let oo = 0; oo < o; oo++) {
    let b = b3[oo]! + bs[oo]!;
    for (let nn = 0; nn < n; nn++) {
      const w = w3.data[oo * n + nn]!;
      b += w * b12[nn]!;
      for (let k = 0; k < i * taps; k++) weight[oo * i * taps + k] = weight[oo * i * taps + k]! + w * w12[nn * i * taps + k]!;
    }
    // The 1x1 skip lands on the centre tap.
    for (let ii = 0; ii < i; ii++) {
      const centre = (oo * i + ii) * taps + 4;
      weight[centre] = weight[centre]! + sk.data[oo * i + ii]!;
    }
    out[oo] = b;
  }
  return { weight: tensor([o, i, kh, kw], weight), bias: tensor([o], out) };
}

export function buildSpan(weights: Weights, spec: SpanSpec): { model: tfl.LayersModel; macsPerPixel: number } {
  // The fused convs join the state dict under names of their own, then build like any conv.
  const state: StateDict = new Map(weights.state);
  const fused = (key: string): string => {
    const { weight, bias } = fuseConv3xc(weights, key);
    state.set(`${key}.fused.weight`, weight);
    state.set(`${key}.fused.bias`, bias);
    return `${key}.fused`;
  };
  const g = new GraphBuilder(new Weights(weights.file, state, weights.architecture));
  const model = g.make(`span_x${spec.scale}`, (input) => {
    let x: Sym = input;
    if (spec.norm) {
      // (x - mean) · 255 as a fixed 1x1 conv: exact, and before conv_1's zero padding as in PyTorch.
      const w = new Float32Array(9);
      for (let c = 0; c < 3; c++) w[c * 3 + c] = 255;
      state.set('input_norm.weight', tensor([3, 3, 1, 1], w));
      state.set('input_norm.bias', tensor([3], new Float32Array(RGB_MEAN.map((m) => -255 * m))));
      x = g.conv(x, 'input_norm', 'input_norm', 1);
    }
    const feature = g.conv(x, fused('conv_1'), 'conv_1', 1);
    let b: Sym = feature;
    let b1: Sym | null = null;
    let b5Out1: Sym | null = null;
    for (let k = 1; k <= BLOCKS; k++) {
      const name = `block_${k}`;
      const blockIn = b;
      const out1 = g.conv(b, fused(`${name}.c1_r`), `${name}_c1`, 1);
      const out2 = g.conv(swish(out1, `${name}_silu1`), fused(`${name}.c2_r`), `${name}_c2`, 1);
      const out3 = g.conv(swish(out2, `${name}_silu2`), fused(`${name}.c3_r`), `${name}_c3`, 1);
      const attention = rescale(sigmoid(out3, `${name}_sigmoid`), 1, `${name}_minus_half`, -0.5);
      b = tfl.layers.multiply({ name: `${name}_attend` }).apply([add([out3, blockIn], `${name}_add`), attention]) as Sym;
      if (k === 1) b1 = b;
      if (k === BLOCKS) b5Out1 = out1; // block_6's first conv output (spandrel's out_b5_2)
    }
    const b6 = g.conv(b, fused('conv_2'), 'conv_2', 1);
    const cat = g.conv(concat([feature, b6, b1!, b5Out1!], 'cat'), 'conv_cat', 'conv_cat', 1);
    const s = spec.scale;
    const y = g.conv(cat, 'upsampler.0', 'upsampler', 1, s > 1 ? { outPerm: shufflePermutation(3, s) } : {});
    return s > 1 ? pixelShuffle(y, s, 'pixel_shuffle') : y;
  });
  return { model, macsPerPixel: g.macs };
}

const swish = (x: Sym, name: string): Sym => tfl.layers.activation({ activation: 'swish', name }).apply(x) as Sym;
const sigmoid = (x: Sym, name: string): Sym => tfl.layers.activation({ activation: 'sigmoid', name }).apply(x) as Sym;
