// Small builders shared by the architecture modules (functional tfjs-layers API).
import * as tfl from '@tensorflow/tfjs-layers';
import { cropToReference, padToMultiple } from './layers';
import type { ActivationIdentifier } from '@tensorflow/tfjs-layers/dist/keras_format/activation_config';

export type Sym = tfl.SymbolicTensor;

export interface ConvOptions {
  activation?: string;
  strides?: number;
  padding?: 'same' | 'valid';
  name?: string;
  useBias?: boolean;
  /** Starting value of every bias (default 0). */
  biasInit?: number;
}

export function asSym(x: unknown): Sym {
  return x as Sym;
}

export function conv(x: Sym, filters: number, kernelSize: number, options: ConvOptions = {}): Sym {
  return asSym(
    tfl.layers
      .conv2d({
        filters,
        kernelSize,
        strides: options.strides ?? 1,
        padding: options.padding ?? 'same',
        activation: (options.activation ?? 'linear') as ActivationIdentifier,
        useBias: options.useBias ?? true,
        kernelInitializer: 'glorotUniform',
        ...(options.biasInit ? { biasInitializer: tfl.initializers.constant({ value: options.biasInit }) } : {}),
        name: options.name,
      })
      .apply(x),
  );
}

export function activation(x: Sym, name: string, layerName?: string): Sym {
  return asSym(tfl.layers.activation({ activation: name as ActivationIdentifier, name: layerName }).apply(x));
}

export function maxPool(x: Sym, name?: string): Sym {
  return asSym(tfl.layers.maxPooling2d({ poolSize: 2, strides: 2, padding: 'valid', name }).apply(x));
}

export function upSample(x: Sym, name?: string): Sym {
  return asSym(tfl.layers.upSampling2d({ size: [2, 2], name }).apply(x));
}

export function add(xs: Sym[], name?: string): Sym {
  return asSym(tfl.layers.add({ name }).apply(xs));
}

export function concat(xs: Sym[], name?: string): Sym {
  return asSym(tfl.layers.concatenate({ axis: -1, name }).apply(xs));
}

export function batchNorm(x: Sym, name?: string): Sym {
  return asSym(tfl.layers.batchNormalization({ axis: -1, momentum: 0.9, epsilon: 1e-3, name }).apply(x));
}

/**
 * The hidden convolutions of a DnCNN-style stack, layers conv{first}..conv{last} (names kept: saved weights
 * are matched by them): conv + activation, or conv without bias + batch norm + activation.
 */
export function hiddenConvs(x: Sym, layers: { first: number; last: number; filters: number; kernelSize: number; activation: string; batchNorm: boolean }): Sym {
  const { filters, kernelSize } = layers;
  for (let i = layers.first; i <= layers.last; i++) {
    if (layers.batchNorm) {
      x = conv(x, filters, kernelSize, { useBias: false, name: `conv${i}` });
      x = batchNorm(x, `bn${i}`);
      x = activation(x, layers.activation, `act${i}`);
    } else {
      x = conv(x, filters, kernelSize, { activation: layers.activation, name: `conv${i}` });
    }
  }
  return x;
}

export function imageInput(channels: number, height: number | null, width: number | null, name = 'input'): Sym {
  return tfl.input({ shape: [height, width, channels], name });
}

/** Pads to a multiple of `multiple` (bottom/right) when > 1; pair with cropToRef at the end. */
export function padTo(x: Sym, multiple: number): Sym {
  return multiple > 1 ? padToMultiple(x, multiple, 'pad_to_multiple') : x;
}

/** Crops back to the size of the model's input. */
export function cropToRef(x: Sym, input: Sym): Sym {
  return cropToReference(x, input, 'crop_to_input');
}
