// PyTorch → TensorFlow.js weight layouts, and the pieces every rebuilt architecture shares: expected-key
// lookups with sentences, conv layers whose weights are set from the state dict, and a multiply-add tally.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { StudioError } from '#shared/rpc/errors';
import type { StateDict, TorchTensor } from './tensor';

type Sym = tfl.SymbolicTensor;

/** A state dict with the file name, for lookups that fail with a sentence. */
export class Weights {
  constructor(
    readonly file: string,
    readonly state: StateDict,
    readonly architecture: string,
  ) {}

  has(key: string): boolean {
    return this.state.has(key);
  }

  get(key: string, rank?: number): TorchTensor {
    const t = this.state.get(key);
    if (!t) throw new StudioError('MODEL_INVALID', `${this.file}: looks like ${this.architecture} but has no "${key}".`);
    if (rank !== undefined && t.shape.length !== rank) {
      throw new StudioError('MODEL_INVALID', `${this.file}: "${key}" has shape [${t.shape.join(', ')}], not the ${rank}-D tensor ${this.architecture} has there.`);
    }
    return t;
  }
}

/**
 * The channel order of PyTorch's pixel_shuffle / pixel_unshuffle (c·r² + i·r + j) mapped onto TensorFlow's
 * depth_to_space / space_to_depth ((i·r + j)·C + c): entry k is the PyTorch channel that TF channel k holds.
 */
export function shufflePermutation(channels: number, r: number): number[] {
  const perm = new Array<number>(channels * r * r);
  for (let c = 0; c < channels; c++) for (let i = 0; i < r; i++) for (let j = 0; j < r; j++) perm[(i * r + j) * channels + c] = c * r * r + i * r + j;
  return perm;
}

/**
 * A conv weight OIHW → HWIO, optionally reordering input or output channels (perm[k] = source channel of
 * k) and scaling (a residual's constant factor folded into its conv).
 */
export function convKernel(w: TorchTensor, options: { inPerm?: number[]; outPerm?: number[]; scale?: number } = {}): Float32Array {
  const [o, i, h, k] = w.shape as [number, number, number, number];
  const out = new Float32Array(o * i * h * k);
  const scale = options.scale ?? 1;
  for (let oo = 0; oo < o; oo++) {
    const so = options.outPerm ? options.outPerm[oo]! : oo;
    for (let ii = 0; ii < i; ii++) {
      const si = options.inPerm ? options.inPerm[ii]! : ii;
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < k; x++) out[((y * k + x) * i + ii) * o + oo] = w.data[((so * i + si) * h + y) * k + x]! * scale;
      }
    }
  }
  return out;
}

/** Builds the functional graph while collecting each layer's weights, set once the model exists. */
export class GraphBuilder {
  private readonly pending: { layer: tfl.layers.Layer; values: { data: Float32Array; shape: number[] }[] }[] = [];
  /** Multiply-adds per input pixel. */
  macs = 0;

  constructor(readonly weights: Weights) {}

  /**
   * A conv from `key` (.weight / .bias) at `resolution` output pixels per input pixel. PyTorch's
   * padding = k // 2 with stride 1 (every conv these architectures have) is TF's 'same'.
   */
  conv(x: Sym, key: string, name: string, resolution: number, options: { inPerm?: number[]; outPerm?: number[]; scale?: number } = {}): Sym {
    const w = this.weights.get(`${key}.weight`, 4);
    const [o, i, kh, kw] = w.shape as [number, number, number, number];
    if (kh !== kw || kh % 2 !== 1) {
      throw new StudioError('MODEL_INVALID', `${this.weights.file}: "${key}.weight" is a ${kh}x${kw} kernel; the studio rebuilds odd square kernels only.`);
    }
    const inChannels = (x.shape as (number | null)[])[3];
    if (inChannels !== i) {
      throw new StudioError('MODEL_INVALID', `${this.weights.file}: "${key}.weight" takes ${i} channels but ${this.weights.architecture} feeds it ${inChannels}.`);
    }
    const hasBias = this.weights.has(`${key}.bias`);
    // Zeros: the weights are replaced at once, and random initialisation of a large model costs seconds.
    const layer = tfl.layers.conv2d({ filters: o, kernelSize: kh, padding: 'same', useBias: hasBias, name, kernelInitializer: 'zeros' });
    const values = [{ data: convKernel(w, options), shape: [kh, kw, i, o] }];
    if (hasBias) {
      const b = this.weights.get(`${key}.bias`, 1);
      if (b.shape[0] !== o) throw new StudioError('MODEL_INVALID', `${this.weights.file}: "${key}.bias" has ${b.shape[0]} values for ${o} filters.`);
      const scale = options.scale ?? 1;
      const data = new Float32Array(o);
      for (let k = 0; k < o; k++) data[k] = b.data[options.outPerm ? options.outPerm[k]! : k]! * scale;
      values.push({ data, shape: [o] });
    }
    this.pending.push({ layer, values });
    this.macs += kh * kw * i * o * resolution;
    return layer.apply(x) as Sym;
  }

  /**
   * Per-channel PReLU from a PyTorch PReLU weight (num_parameters = channels, or 1 shared). With every slope
   * at most 1 it is max(x, a·x) (at least 1: min), a 1x1 depthwise conv and one element-wise op: on native
   * TensorFlow a third faster than tfjs' PReLU kernel (relu, abs, sub and three more ops), which matters
   * for Compact models that run one after each of their convs at full resolution.
   */
  prelu(x: Sym, key: string, name: string): Sym {
    const w = this.weights.get(`${key}.weight`, 1);
    const c = (x.shape as (number | null)[])[3]!;
    if (w.shape[0] !== c && w.shape[0] !== 1) {
      throw new StudioError('MODEL_INVALID', `${this.weights.file}: "${key}.weight" has ${w.shape[0]} slopes for ${c} channels.`);
    }
    const slopes = new Float32Array(c);
    for (let k = 0; k < c; k++) slopes[k] = w.shape[0] === c ? w.data[k]! : w.data[0]!;
    const below = slopes.every((a) => a <= 1);
    const above = slopes.every((a) => a >= 1);
    if (!below && !above) {
      const layer = tfl.layers.prelu({ sharedAxes: [1, 2], name });
      this.pending.push({ layer, values: [{ data: slopes, shape: [1, 1, c] }] });
      return layer.apply(x) as Sym;
    }
    const scale = tfl.layers.depthwiseConv2d({ kernelSize: 1, useBias: false, name: `${name}_slope`, depthwiseInitializer: 'zeros' });
    this.pending.push({ layer: scale, values: [{ data: slopes, shape: [1, 1, c, 1] }] });
    const scaled = scale.apply(x) as Sym;
    const pick = below ? tfl.layers.maximum({ name }) : tfl.layers.minimum({ name });
    return pick.apply([x, scaled]) as Sym;
  }

  /**
   * Builds the graph `body` describes from an RGB input of any size, as a model with the file's weights.
   * A graph abandoned half-way (a missing or misshapen key) frees the variables its layers already made.
   */
  make(name: string, body: (input: Sym) => Sym): tfl.LayersModel {
    const input = tfl.input({ shape: [null, null, 3], name: 'input' });
    let model: tfl.LayersModel;
    try {
      model = tfl.model({ inputs: input, outputs: body(input), name });
    } catch (error) {
      for (const { layer } of this.pending) if (layer.built) layer.dispose();
      throw error;
    }
    try {
      this.assign();
    } catch (error) {
      model.dispose();
      throw error;
    }
    return model;
  }

  /** Sets the collected weights (after the model is built, when every layer has its variables). */
  private assign(): void {
    for (const { layer, values } of this.pending) {
      const tensors = values.map((v) => tf.tensor(v.data, v.shape, 'float32'));
      try {
        layer.setWeights(tensors);
      } finally {
        tf.dispose(tensors);
      }
    }
  }
}

export const leaky = (x: Sym, alpha: number, name: string): Sym => tfl.layers.leakyReLU({ alpha, name }).apply(x) as Sym;
export const add = (xs: Sym[], name: string): Sym => tfl.layers.add({ name }).apply(xs) as Sym;
// A copy of the list: the layer keeps the array it was applied to, and callers go on appending to theirs.
export const concat = (xs: Sym[], name: string): Sym => tfl.layers.concatenate({ axis: -1, name }).apply([...xs]) as Sym;
export const nearest = (x: Sym, factor: number, name: string): Sym =>
  tfl.layers.upSampling2d({ size: [factor, factor], interpolation: 'nearest', name }).apply(x) as Sym;
export const rescale = (x: Sym, scale: number, name: string, offset = 0): Sym => tfl.layers.rescaling({ scale, offset, name }).apply(x) as Sym;
