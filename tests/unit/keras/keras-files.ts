// Writes small Keras-style HDF5 files with h5wasm, laid out the way Keras 2 (h5py) writes them:
// root attributes model_config / keras_version / backend, a model_weights group with layer_names, and per
// layer a group with weight_names whose datasets sit at <layer>/<weight name>. Weights-only files (like the
// keras.applications VGG16 "notop" file) have the layer groups at the root.
import type { Group } from 'h5wasm';
import { h5 } from '../../../src/main/engine/keras/h5'; // loads h5wasm (quickly under tsx)
import { mulberry32 } from '../../helpers/random';

export { mulberry32 };

export interface FileWeight {
  /** As Keras names it, e.g. "conv2d/kernel:0" or "block1_conv1_W_1:0". */
  name: string;
  shape: number[];
  values: Float32Array;
}

export interface FileLayer {
  name: string;
  weights: FileWeight[];
}

function fixedStrings(values: string[]): { data: string[]; dtype: string } {
  const width = Math.max(1, ...values.map((v) => v.length));
  return { data: values, dtype: `S${width}` };
}

function writeLayers(lib: Awaited<ReturnType<typeof h5>>, group: Group, layers: FileLayer[]): void {
  const names = fixedStrings(layers.map((l) => l.name));
  group.create_attribute('layer_names', names.data, [layers.length], names.dtype);
  for (const layer of layers) {
    const g = group.create_group(layer.name);
    if (layer.weights.length === 0) g.create_attribute('weight_names', [] as string[], [0], 'S1');
    else {
      const w = fixedStrings(layer.weights.map((x) => x.name));
      g.create_attribute('weight_names', w.data, [layer.weights.length], w.dtype);
    }
    for (const weight of layer.weights) {
      // "conv2d/kernel:0" lives at <layer group>/conv2d/kernel:0
      const parts = weight.name.split('/');
      let parent: Group = g;
      for (const part of parts.slice(0, -1)) {
        const existing = parent.get(part);
        parent = existing instanceof lib.Group ? existing : parent.create_group(part);
      }
      parent.create_dataset({ name: parts.at(-1)!, data: weight.values, shape: weight.shape, dtype: '<f' });
    }
  }
}

export async function writeKerasModelFile(path: string, modelConfig: unknown, layers: FileLayer[], kerasVersion = '2.13.1'): Promise<void> {
  const lib = await h5();
  const file = new lib.File(path, 'w');
  try {
    file.create_attribute('keras_version', kerasVersion);
    file.create_attribute('backend', 'tensorflow');
    file.create_attribute('model_config', JSON.stringify(modelConfig));
    const weights = file.create_group('model_weights');
    weights.create_attribute('keras_version', kerasVersion);
    weights.create_attribute('backend', 'tensorflow');
    writeLayers(lib, weights, layers);
  } finally {
    file.close();
  }
}

export async function writeKerasWeightsFile(path: string, layers: FileLayer[]): Promise<void> {
  const lib = await h5();
  const file = new lib.File(path, 'w');
  try {
    writeLayers(lib, file, layers);
  } finally {
    file.close();
  }
}

/** A Keras 2 Conv2D layer config as model.to_json() writes it. */
export function conv2dConfig(name: string, filters: number, kernel: number, activation: string): Record<string, unknown> {
  return {
    name,
    trainable: true,
    dtype: 'float32',
    filters,
    kernel_size: [kernel, kernel],
    strides: [1, 1],
    padding: 'same',
    data_format: 'channels_last',
    dilation_rate: [1, 1],
    groups: 1,
    activation,
    use_bias: true,
    kernel_initializer: { class_name: 'GlorotUniform', config: { seed: null } },
    bias_initializer: { class_name: 'Zeros', config: {} },
    kernel_regularizer: null,
    bias_regularizer: null,
    activity_regularizer: null,
    kernel_constraint: null,
    bias_constraint: null,
  };
}

export function randomValues(count: number, rand: () => number, scale = 0.2): Float32Array {
  return Float32Array.from({ length: count }, () => (rand() * 2 - 1) * scale);
}
