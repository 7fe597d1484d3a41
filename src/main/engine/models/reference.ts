// The reference CNN the engine benchmarks and tests train: a plain residual conv stack.
//   output = input + net(input),  net = (layers - 1) x [3x3 conv, `filters` channels, ReLU] + 3x3 conv to the image channels
// Fully convolutional (any height and width). Not part of the model zoo registry (models/index.ts); it is
// the fixed yardstick for backend speed (scripts/bench-engine.ts) and kernel tests (tests/unit/engine).
import * as tfl from '@tensorflow/tfjs-layers';

export interface ReferenceCnnOptions {
  /** Conv layers in total, including the output conv. Default 10. */
  layers?: number;
  /** Channels of the hidden convs. Default 32. */
  filters?: number;
  /** Kernel size of every conv. Default 3. */
  kernelSize?: number;
  /** Image channels in and out. Default 3. */
  channels?: number;
  /** Fixed input size; null (default) accepts any size. */
  height?: number | null;
  width?: number | null;
  name?: string;
}

function resolve(options: ReferenceCnnOptions): Required<ReferenceCnnOptions> {
  const resolved = {
    layers: options.layers ?? 10,
    filters: options.filters ?? 32,
    kernelSize: options.kernelSize ?? 3,
    channels: options.channels ?? 3,
    height: options.height ?? null,
    width: options.width ?? null,
    name: options.name ?? 'reference_cnn',
  };
  if (!Number.isInteger(resolved.layers) || resolved.layers < 2) throw new RangeError('The reference CNN needs at least 2 layers.');
  return resolved;
}

export function buildReferenceCnn(options: ReferenceCnnOptions = {}): tfl.LayersModel {
  const o = resolve(options);
  const input = tfl.input({ shape: [o.height, o.width, o.channels], name: 'input' });
  let x: tfl.SymbolicTensor = input;
  for (let i = 1; i < o.layers; i++) {
    x = tfl.layers
      .conv2d({ filters: o.filters, kernelSize: o.kernelSize, padding: 'same', activation: 'relu', name: `conv${i}` })
      .apply(x) as tfl.SymbolicTensor;
  }
  const residual = tfl.layers
    .conv2d({ filters: o.channels, kernelSize: o.kernelSize, padding: 'same', name: `conv${o.layers}` })
    .apply(x) as tfl.SymbolicTensor;
  const output = tfl.layers.add({ name: 'residual' }).apply([input, residual]) as tfl.SymbolicTensor;
  return tfl.model({ inputs: input, outputs: output, name: o.name });
}

/** Multiply-adds per pixel of the reference CNN's convolutions (75,456 with the defaults). */
export function referenceMacsPerPixel(options: ReferenceCnnOptions = {}): number {
  const o = resolve(options);
  const k2 = o.kernelSize * o.kernelSize;
  const first = k2 * o.channels * o.filters;
  const hidden = (o.layers - 2) * k2 * o.filters * o.filters;
  const last = k2 * o.filters * o.channels;
  return first + hidden + last;
}
