// ESRGAN (RRDBNet) in the key layouts published models use, rebuilt in TensorFlow.js:
//   new / Real-ESRGAN (basicsr):  conv_first, body.N.rdb1.conv1, conv_body, conv_up1.., conv_hr, conv_last
//   BSRGAN / RealSR (mmsr):       conv_first, RRDB_trunk.N.RDB1.conv1, trunk_conv, upconv1.., HRconv, conv_last
//   old (original ESRGAN repo):   model.0, model.1.sub.N.RDB1.conv1.0, model.1.sub.<nb>, model.3, model.6 …
// Hyper-parameters come from the shapes: features from conv_first, growth from conv1, blocks from the
// highest block index, scale from the number of nearest x2 upsampling convs divided by the
// pixel-unshuffle factor that input channels of 4x / 16x the output channels imply. ESRGAN+ (nESRGAN+) is
// the same with a 1x1 shortcut (conv1x1) in every dense block; its noise layers do nothing at inference.
import * as tfl from '@tensorflow/tfjs-layers';
import { StudioError } from '#shared/rpc/errors';
import { pixelUnshuffle } from '../models/layers';
import { add, concat, GraphBuilder, leaky, nearest, rescale, shufflePermutation, Weights } from './convert';
import type { StateDict } from './tensor';

export interface EsrganLayout {
  layout: 'new' | 'bsrgan' | 'old';
  first: string;
  /** Key of conv c (1..5) of dense block r (1..3) of RRDB b. */
  dense: (b: number, r: number, c: number) => string;
  /** ESRGAN+'s 1x1 shortcut conv of dense block r of RRDB b (a bare conv, no bias). */
  shortcut: (b: number, r: number) => string;
  trunk: string;
  ups: string[];
  hr: string;
  last: string;
  blocks: number;
}

export interface EsrganSpec {
  layout: EsrganLayout['layout'];
  /** ESRGAN+: every dense block has a 1x1 shortcut (x2 += conv1x1(x); x4 += x2). */
  plus: boolean;
  features: number;
  growth: number;
  blocks: number;
  upsamples: number;
  unshuffle: number;
  scale: number;
  inChannels: number;
  outChannels: number;
}

function maxIndex(keys: string[], pattern: RegExp): number {
  let max = -1;
  for (const k of keys) {
    const m = pattern.exec(k);
    if (m) max = Math.max(max, Number(m[1]));
  }
  return max;
}

function numbered(keys: string[], prefix: string): string[] {
  const out: string[] = [];
  for (let i = 1; keys.includes(`${prefix}${i}.weight`); i++) out.push(`${prefix}${i}`);
  return out;
}

/** The layout of an ESRGAN state dict, or null when the keys are not ESRGAN's. */
export function esrganLayout(state: StateDict): EsrganLayout | null {
  const keys = [...state.keys()];
  if (state.has('conv_first.weight') && state.has('body.0.rdb1.conv1.weight')) {
    return {
      layout: 'new',
      first: 'conv_first',
      dense: (b, r, c) => `body.${b}.rdb${r}.conv${c}`,
      shortcut: (b, r) => `body.${b}.rdb${r}.conv1x1`,
      trunk: 'conv_body',
      ups: numbered(keys, 'conv_up'),
      hr: 'conv_hr',
      last: 'conv_last',
      blocks: maxIndex(keys, /^body\.(\d+)\.rdb1\.conv1\.weight$/) + 1,
    };
  }
  if (state.has('conv_first.weight') && state.has('RRDB_trunk.0.RDB1.conv1.weight')) {
    return {
      layout: 'bsrgan',
      first: 'conv_first',
      dense: (b, r, c) => `RRDB_trunk.${b}.RDB${r}.conv${c}`,
      shortcut: (b, r) => `RRDB_trunk.${b}.RDB${r}.conv1x1`,
      trunk: 'trunk_conv',
      ups: numbered(keys, 'upconv'),
      hr: 'HRconv',
      last: 'conv_last',
      blocks: maxIndex(keys, /^RRDB_trunk\.(\d+)\.RDB1\.conv1\.weight$/) + 1,
    };
  }
  if (state.has('model.0.weight') && state.has('model.1.sub.0.RDB1.conv1.0.weight')) {
    const blocks = maxIndex(keys, /^model\.1\.sub\.(\d+)\.RDB1\.conv1\.0\.weight$/) + 1;
    // After the trunk: upsampling convs at 3, 6, … (each is Upsample, conv, LeakyReLU), then the HR conv
    // and its LeakyReLU, then the last conv.
    const top = [...new Set(keys.map((k) => /^model\.(\d+)\.weight$/.exec(k)?.[1]).filter((v) => v !== undefined).map(Number))]
      .filter((i) => i >= 2)
      .sort((a, b) => a - b);
    const last = top[top.length - 1];
    const hr = top[top.length - 2];
    const ups = top.slice(0, -2);
    if (last === undefined || hr === undefined || !ups.every((u, i) => u === 3 * (i + 1)) || hr !== 3 * ups.length + 2 || last !== hr + 2) {
      return null;
    }
    return {
      layout: 'old',
      first: 'model.0',
      dense: (b, r, c) => `model.1.sub.${b}.RDB${r}.conv${c}.0`,
      shortcut: (b, r) => `model.1.sub.${b}.RDB${r}.conv1x1`,
      trunk: `model.1.sub.${blocks}`,
      ups: ups.map((u) => `model.${u}`),
      hr: `model.${hr}`,
      last: `model.${last}`,
      blocks,
    };
  }
  return null;
}

/** Reads the hyper-parameters from the tensor shapes, refusing variants the rebuild does not cover. */
export function esrganSpec(weights: Weights, layout: EsrganLayout): EsrganSpec {
  const { file } = weights;
  const plus = weights.has(`${layout.shortcut(0, 1)}.weight`);
  const first = weights.get(`${layout.first}.weight`, 4);
  const last = weights.get(`${layout.last}.weight`, 4);
  const features = first.shape[0]!;
  const inChannels = first.shape[1]!;
  const outChannels = last.shape[0]!;
  const growth = weights.get(`${layout.dense(0, 1, 1)}.weight`, 4).shape[0]!;
  const unshuffle = inChannels === outChannels * 16 ? 4 : inChannels === outChannels * 4 ? 2 : 1;
  if (outChannels !== 3 || inChannels !== 3 * unshuffle * unshuffle) {
    throw new StudioError(
      'MODEL_INVALID',
      `${file}: is an ESRGAN model with ${inChannels} input and ${outChannels} output channels; the studio restores RGB photos (3 channels).`,
    );
  }
  const upsamples = layout.ups.length;
  const factor = 2 ** upsamples;
  if (factor % unshuffle !== 0) {
    throw new StudioError('MODEL_INVALID', `${file}: shrinks its input ${unshuffle}x but upsamples only ${factor}x, so its output would be smaller than the photo.`);
  }
  return { layout: layout.layout, plus, features, growth, blocks: layout.blocks, upsamples, unshuffle, scale: factor / unshuffle, inChannels, outChannels };
}

/** The rebuilt model (input [n, h, w, 3] in 0..1, output [n, h·s, w·s, 3]) and its multiply-adds per pixel. */
export function buildEsrgan(weights: Weights, layout: EsrganLayout, spec: EsrganSpec): { model: tfl.LayersModel; macsPerPixel: number } {
  const g = new GraphBuilder(weights);
  const model = g.make(`esrgan_x${spec.scale}`, (input) => {
    let x: tfl.SymbolicTensor = input;
    let res = 1;
    let inPerm: number[] | undefined;
    if (spec.unshuffle > 1) {
      x = pixelUnshuffle(x, spec.unshuffle, 'pixel_unshuffle');
      res = 1 / (spec.unshuffle * spec.unshuffle);
      inPerm = shufflePermutation(3, spec.unshuffle);
    }
    const fea = g.conv(x, layout.first, 'conv_first', res, inPerm ? { inPerm } : {});
    let t = fea;
    for (let b = 0; b < spec.blocks; b++) {
      const blockIn = t;
      for (let r = 1; r <= 3; r++) {
        const name = `rrdb${b}_rdb${r}`;
        const denseIn = t;
        const parts = [t];
        for (let c = 1; c <= 4; c++) {
          const inp = parts.length === 1 ? parts[0]! : concat(parts, `${name}_cat${c}`);
          let xc = leaky(g.conv(inp, layout.dense(b, r, c), `${name}_conv${c}`, res), 0.2, `${name}_lrelu${c}`);
          // ESRGAN+ (after the activation): x2 += conv1x1(x), x4 += x2.
          if (spec.plus && c === 2) xc = add([xc, g.conv(denseIn, layout.shortcut(b, r), `${name}_conv1x1`, res)], `${name}_plus2`);
          if (spec.plus && c === 4) xc = add([xc, parts[2]!], `${name}_plus4`);
          parts.push(xc);
        }
        // x5 * 0.2 + x: the 0.2 is folded into conv5's weights and bias.
        const x5 = g.conv(concat(parts, `${name}_cat5`), layout.dense(b, r, 5), `${name}_conv5`, res, { scale: 0.2 });
        t = add([x5, denseIn], `${name}_add`);
      }
      t = add([rescale(t, 0.2, `rrdb${b}_scale`), blockIn], `rrdb${b}_add`);
    }
    let y = add([fea, g.conv(t, layout.trunk, 'conv_body', res)], 'trunk_add');
    layout.ups.forEach((key, i) => {
      res *= 4;
      y = leaky(g.conv(nearest(y, 2, `up${i + 1}`), key, `conv_up${i + 1}`, res), 0.2, `lrelu_up${i + 1}`);
  });
  y = leaky(g.conv(y, layout.hr, 'conv_hr', res), 0.2, 'lrelu_hr');
  return g.conv(y, layout.last, 'conv_last', res);
  });
  return { model, macsPerPixel: g.macs };
}
