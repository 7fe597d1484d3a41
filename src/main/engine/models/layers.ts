// Custom tfjs-layers layers used by the zoo. Every class is registered with tf.serialization.registerClass
// at import, so models containing them save with model.save and load with tf.loadLayersModel (the loader
// must import this module first; models/index.ts does).
//
// Every `call` returns a new tensor (never its input): the layers executor disposes intermediate tensors
// by identity, so handing back an input would free it under another layer's feet.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { LayerArgs } from '@tensorflow/tfjs-layers/dist/engine/topology';
import type { Kwargs } from '@tensorflow/tfjs-layers/dist/types';
import type { LayerVariable } from '@tensorflow/tfjs-layers';
import { StudioError } from '#shared/rpc/errors';

type Shape = (number | null)[];

function one(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
  return Array.isArray(inputs) ? inputs[0]! : inputs;
}

function two(inputs: tf.Tensor | tf.Tensor[], layer: string): [tf.Tensor, tf.Tensor] {
  if (!Array.isArray(inputs) || inputs.length !== 2) {
    throw new StudioError('MODEL_INVALID', `${layer} expects exactly two inputs.`);
  }
  return [inputs[0]!, inputs[1]!];
}

function oneShape(shape: Shape | Shape[]): Shape {
  return Array.isArray(shape[0]) ? (shape[0] as Shape) : (shape as Shape);
}

function shapes(shape: Shape | Shape[]): Shape[] {
  return Array.isArray(shape[0]) ? (shape as Shape[]) : [shape as Shape];
}

function nhwc(x: tf.Tensor, layer: string): [number, number, number, number] {
  if (x.rank !== 4) throw new StudioError('MODEL_INVALID', `${layer} expects a 4-D NHWC tensor, got rank ${x.rank}.`);
  return x.shape as [number, number, number, number];
}

/**
 * Space-to-depth ("pixel unshuffle"): [n, h, w, c] -> [n, h/r, w/r, r*r*c], channel order (row offset,
 * column offset, channel) as in TensorFlow's space_to_depth. Built from rank-4 reshapes and a transpose so
 * it has gradients on every backend (tfjs has no SpaceToDepth op and no DepthToSpace gradient).
 */
export class PixelUnshuffle extends tfl.layers.Layer {
  static className = 'PixelUnshuffle';
  readonly blockSize: number;

  constructor(args: LayerArgs & { blockSize?: number } = {}) {
    super(args);
    this.blockSize = args.blockSize ?? 2;
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const [n, h, w, c] = oneShape(inputShape);
    const r = this.blockSize;
    return [n ?? null, h == null ? null : Math.floor(h / r), w == null ? null : Math.floor(w / r), c == null ? null : c * r * r];
  }

  override call(inputs: tf.Tensor | tf.Tensor[], _kwargs: Kwargs): tf.Tensor {
    return tf.tidy(() => {
      const x = one(inputs);
      const [n, h, w, c] = nhwc(x, 'PixelUnshuffle');
      const r = this.blockSize;
      if (h % r !== 0 || w % r !== 0) {
        throw new StudioError('BAD_INPUT', `PixelUnshuffle needs a height and width divisible by ${r} (got ${h}x${w}).`);
      }
      const a = tf.reshape(x, [n * (h / r), r, w / r, r * c]);
      const b = tf.transpose(a, [0, 2, 1, 3]);
      return tf.reshape(b, [n, h / r, w / r, r * r * c]);
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), blockSize: this.blockSize };
  }
}

/** Depth-to-space ("pixel shuffle"), the inverse of PixelUnshuffle: [n, h, w, r*r*c] -> [n, h*r, w*r, c]. */
export class PixelShuffle extends tfl.layers.Layer {
  static className = 'PixelShuffle';
  readonly blockSize: number;

  constructor(args: LayerArgs & { blockSize?: number } = {}) {
    super(args);
    this.blockSize = args.blockSize ?? 2;
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const [n, h, w, c] = oneShape(inputShape);
    const r = this.blockSize;
    return [n ?? null, h == null ? null : h * r, w == null ? null : w * r, c == null ? null : c / (r * r)];
  }

  override call(inputs: tf.Tensor | tf.Tensor[], _kwargs: Kwargs): tf.Tensor {
    return tf.tidy(() => {
      const x = one(inputs);
      const [n, h, w, c] = nhwc(x, 'PixelShuffle');
      const r = this.blockSize;
      if (c % (r * r) !== 0) {
        throw new StudioError('MODEL_INVALID', `PixelShuffle needs channels divisible by ${r * r} (got ${c}).`);
      }
      const a = tf.reshape(x, [n * h, w, r, (r * c) / (r * r)]);
      const b = tf.transpose(a, [0, 2, 1, 3]);
      return tf.reshape(b, [n, h * r, w * r, c / (r * r)]);
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), blockSize: this.blockSize };
  }
}

/**
 * Pads height and width up to a multiple (bottom and right edges) so pooling nets accept any size; pair it
 * with CropToReference at the end. Mirrors the edge (symmetric) when the image is large enough, else
 * repeats the last row/column.
 */
export class PadToMultiple extends tfl.layers.Layer {
  static className = 'PadToMultiple';
  readonly multiple: number;

  constructor(args: LayerArgs & { multiple?: number } = {}) {
    super(args);
    this.multiple = args.multiple ?? 1;
  }

  private up(v: number | null): number | null {
    return v == null ? null : Math.ceil(v / this.multiple) * this.multiple;
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const [n, h, w, c] = oneShape(inputShape);
    return [n ?? null, this.up(h ?? null), this.up(w ?? null), c ?? null];
  }

  override call(inputs: tf.Tensor | tf.Tensor[], _kwargs: Kwargs): tf.Tensor {
    return tf.tidy(() => {
      const x = one(inputs) as tf.Tensor4D;
      const [, h, w] = nhwc(x, 'PadToMultiple');
      const ph = this.up(h)! - h;
      const pw = this.up(w)! - w;
      if (ph === 0 && pw === 0) return x.clone();
      if (ph <= h && pw <= w) {
        return tf.mirrorPad(x, [[0, 0], [0, ph], [0, pw], [0, 0]], 'symmetric');
      }
      let y: tf.Tensor4D = x;
      if (ph > 0) y = tf.concat([y, tf.tile(tf.slice(y, [0, h - 1, 0, 0], [-1, 1, -1, -1]), [1, ph, 1, 1])], 1);
      if (pw > 0) y = tf.concat([y, tf.tile(tf.slice(y, [0, 0, w - 1, 0], [-1, -1, 1, -1]), [1, 1, pw, 1])], 2);
      return y;
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), multiple: this.multiple };
  }
}

/** Crops its first input to the height and width of its second (the original, unpadded input). */
export class CropToReference extends tfl.layers.Layer {
  static className = 'CropToReference';

  constructor(args: LayerArgs = {}) {
    super(args);
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const [x, ref] = shapes(inputShape);
    return [x?.[0] ?? null, ref?.[1] ?? null, ref?.[2] ?? null, x?.[3] ?? null];
  }

  override call(inputs: tf.Tensor | tf.Tensor[], _kwargs: Kwargs): tf.Tensor {
    return tf.tidy(() => {
      const [x, ref] = two(inputs, 'CropToReference');
      const [, h, w] = nhwc(x, 'CropToReference');
      const [, rh, rw] = nhwc(ref, 'CropToReference');
      if (rh > h || rw > w) {
        throw new StudioError('MODEL_INVALID', `CropToReference cannot crop ${h}x${w} to a larger ${rh}x${rw}.`);
      }
      if (rh === h && rw === w) return x.clone();
      return tf.slice(x, [0, 0, 0, 0], [-1, rh, rw, -1]);
    });
  }
}

/** a - b (tfjs-layers has add, average, multiply ... but no subtract). */
export class Subtract extends tfl.layers.Layer {
  static className = 'Subtract';

  constructor(args: LayerArgs = {}) {
    super(args);
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    return [...(shapes(inputShape)[0] ?? [])];
  }

  override call(inputs: tf.Tensor | tf.Tensor[], _kwargs: Kwargs): tf.Tensor {
    return tf.tidy(() => {
      const [a, b] = two(inputs, 'Subtract');
      return tf.sub(a, b);
    });
  }
}

/**
 * The mask-conditioned filler's output: [photo + mask (c + 1 channels), correction (c channels)] -> photo +
 * mask x correction. Where the mask is 0 the photo passes through exactly, so the filler cannot touch a
 * pixel the detector left alone, however it was trained.
 */
export class MaskedResidual extends tfl.layers.Layer {
  static className = 'MaskedResidual';

  constructor(args: LayerArgs = {}) {
    super(args);
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    return [...(shapes(inputShape)[1] ?? [])];
  }

  override call(inputs: tf.Tensor | tf.Tensor[], _kwargs: Kwargs): tf.Tensor {
    return tf.tidy(() => {
      const [photoAndMask, correction] = two(inputs, 'MaskedResidual');
      const [n, h, w, c] = nhwc(correction, 'MaskedResidual');
      const photo = tf.slice(photoAndMask, [0, 0, 0, 0], [n, h, w, c]);
      const mask = tf.slice(photoAndMask, [0, 0, 0, c], [n, h, w, 1]);
      return tf.add(photo, tf.mul(mask, correction));
    });
  }
}

/** NAFNet's SimpleGate: splits the channels in two halves and multiplies them. */
export class SimpleGate extends tfl.layers.Layer {
  static className = 'SimpleGate';

  constructor(args: LayerArgs = {}) {
    super(args);
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const s = [...oneShape(inputShape)];
    const c = s[s.length - 1];
    s[s.length - 1] = c == null ? null : c / 2;
    return s;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], _kwargs: Kwargs): tf.Tensor {
    return tf.tidy(() => {
      const x = one(inputs);
      const c = x.shape[x.rank - 1]!;
      if (c % 2 !== 0) throw new StudioError('MODEL_INVALID', `SimpleGate needs an even channel count (got ${c}).`);
      const [a, b] = tf.split(x, 2, x.rank - 1);
      return tf.mul(a!, b!);
    });
  }
}

/**
 * NAFNet's simplified channel attention: x * (W · mean_hw(x) + b), one 1x1 convolution on the globally
 * pooled features, no non-linearity.
 */
export class SimplifiedChannelAttention extends tfl.layers.Layer {
  static className = 'SimplifiedChannelAttention';
  private kernel: LayerVariable | null = null;
  private bias: LayerVariable | null = null;

  constructor(args: LayerArgs = {}) {
    super(args);
  }

  override build(inputShape: Shape | Shape[]): void {
    const c = oneShape(inputShape)[3];
    if (c == null) throw new StudioError('MODEL_INVALID', 'SimplifiedChannelAttention needs a known channel count.');
    this.kernel = this.addWeight('kernel', [c, c], 'float32', tfl.initializers.glorotUniform({}));
    this.bias = this.addWeight('bias', [c], 'float32', tfl.initializers.zeros());
    this.built = true;
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    return [...oneShape(inputShape)];
  }

  override call(inputs: tf.Tensor | tf.Tensor[], _kwargs: Kwargs): tf.Tensor {
    return tf.tidy(() => {
      const x = one(inputs);
      const [n, , , c] = nhwc(x, 'SimplifiedChannelAttention');
      const pooled = tf.mean(x, [1, 2]) as tf.Tensor2D;
      const attention = tf.add(tf.matMul(pooled, this.kernel!.read() as tf.Tensor2D), this.bias!.read());
      return tf.mul(x, tf.reshape(attention, [n, 1, 1, c]));
    });
  }

  macsPerImage(inputShape: Shape): number {
    const c = inputShape[3] ?? 0;
    return c * c;
  }
}

/** Learnable per-channel scale (NAFNet's beta / gamma), initialised to `initValue` (0: the block starts as identity). */
export class LayerScale extends tfl.layers.Layer {
  static className = 'LayerScale';
  readonly initValue: number;
  private scale: LayerVariable | null = null;

  constructor(args: LayerArgs & { initValue?: number } = {}) {
    super(args);
    this.initValue = args.initValue ?? 0;
  }

  override build(inputShape: Shape | Shape[]): void {
    const s = oneShape(inputShape);
    const c = s[s.length - 1];
    if (c == null) throw new StudioError('MODEL_INVALID', 'LayerScale needs a known channel count.');
    this.scale = this.addWeight('scale', [c], 'float32', tfl.initializers.constant({ value: this.initValue }));
    this.built = true;
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    return [...oneShape(inputShape)];
  }

  override call(inputs: tf.Tensor | tf.Tensor[], _kwargs: Kwargs): tf.Tensor {
    return tf.tidy(() => tf.mul(one(inputs), this.scale!.read()));
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), initValue: this.initValue };
  }
}

/**
 * FFDNet's noise-level map: appends one channel filled with sigma/255. `sigma` lives in the layer config
 * (model.json), so a saved model's denoising strength can be changed without retraining.
 */
export class NoiseLevelMap extends tfl.layers.Layer {
  static className = 'NoiseLevelMap';
  readonly sigma: number;

  constructor(args: LayerArgs & { sigma?: number } = {}) {
    super(args);
    this.sigma = args.sigma ?? 15;
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const [n, h, w, c] = oneShape(inputShape);
    return [n ?? null, h ?? null, w ?? null, c == null ? null : c + 1];
  }

  override call(inputs: tf.Tensor | tf.Tensor[], _kwargs: Kwargs): tf.Tensor {
    return tf.tidy(() => {
      const x = one(inputs);
      const [n, h, w] = nhwc(x, 'NoiseLevelMap');
      return tf.concat([x, tf.fill([n, h, w, 1], this.sigma / 255)], 3);
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), sigma: this.sigma };
  }
}

export const CUSTOM_LAYERS = [
  PixelUnshuffle,
  PixelShuffle,
  PadToMultiple,
  CropToReference,
  Subtract,
  MaskedResidual,
  SimpleGate,
  SimplifiedChannelAttention,
  LayerScale,
  NoiseLevelMap,
] as const;

let registered = false;
/** Registers the custom layers for (de)serialisation. Idempotent; runs on import. */
export function registerCustomLayers(): void {
  if (registered) return;
  registered = true;
  for (const cls of CUSTOM_LAYERS) tf.serialization.registerClass(cls, 'Studio');
}
registerCustomLayers();

// Functional helpers for the builders.
type Sym = tfl.SymbolicTensor;
const sym = (x: tfl.SymbolicTensor | tfl.SymbolicTensor[] | tf.Tensor | tf.Tensor[]): Sym => x as Sym;

export const pixelUnshuffle = (x: Sym, blockSize = 2, name?: string): Sym => sym(new PixelUnshuffle({ blockSize, name }).apply(x));
export const pixelShuffle = (x: Sym, blockSize = 2, name?: string): Sym => sym(new PixelShuffle({ blockSize, name }).apply(x));
export const padToMultiple = (x: Sym, multiple: number, name?: string): Sym => sym(new PadToMultiple({ multiple, name }).apply(x));
export const cropToReference = (x: Sym, ref: Sym, name?: string): Sym => sym(new CropToReference({ name }).apply([x, ref]));
export const subtract = (a: Sym, b: Sym, name?: string): Sym => sym(new Subtract({ name }).apply([a, b]));
export const maskedResidual = (photoAndMask: Sym, correction: Sym, name?: string): Sym => sym(new MaskedResidual({ name }).apply([photoAndMask, correction]));
export const simpleGate = (x: Sym, name?: string): Sym => sym(new SimpleGate({ name }).apply(x));
export const channelAttention = (x: Sym, name?: string): Sym => sym(new SimplifiedChannelAttention({ name }).apply(x));
export const layerScale = (x: Sym, initValue = 0, name?: string): Sym => sym(new LayerScale({ initValue, name }).apply(x));
export const noiseLevelMap = (x: Sym, sigma: number, name?: string): Sym => sym(new NoiseLevelMap({ sigma, name }).apply(x));
