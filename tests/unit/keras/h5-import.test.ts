// Keras .h5 import: files written here with h5wasm in Keras 2's layout load into tfjs models whose outputs
// equal a reference built in tfjs with the same weights; broken or unsupported files fail with MODEL_INVALID
// naming the file and the problem; VGG16 weights load into vgg16-restorer's encoder (caffe preprocessing
// folded into block1_conv1).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { importKerasH5, loadKerasModel, loadVgg16Weights, VGG16_ENCODER_LAYERS, CAFFE_MEAN_BGR } from '../../../src/main/engine/keras/index';
import { loadPackageDir } from '../../../src/main/engine/package/index';
import { getArchitecture } from '../../../src/main/engine/models/index';
import { StudioError } from '#shared/rpc/errors';
import {
  conv2dConfig,
  mulberry32,
  randomValues,
  writeKerasModelFile,
  writeKerasWeightsFile,
  type FileLayer,
} from './keras-files';
import { useTestBackend } from '../../helpers/native';

await useTestBackend();

const dir = await mkdtemp(join(tmpdir(), 'studio-keras-'));
test.after(() => rm(dir, { recursive: true, force: true }));

interface ConvSpec {
  name: string;
  cin: number;
  cout: number;
  k: number;
  activation: string;
}

const SPECS: ConvSpec[] = [
  { name: 'conv2d', cin: 3, cout: 8, k: 3, activation: 'relu' },
  { name: 'conv2d_1', cin: 8, cout: 8, k: 3, activation: 'relu' },
  { name: 'conv2d_2', cin: 8, cout: 3, k: 1, activation: 'linear' },
];

function convWeights(spec: ConvSpec, rand: () => number, naming: 'keras2' | 'keras1' = 'keras2'): FileLayer {
  const kernelShape = [spec.k, spec.k, spec.cin, spec.cout];
  const names = naming === 'keras2' ? [`${spec.name}/kernel:0`, `${spec.name}/bias:0`] : [`${spec.name}_W_1:0`, `${spec.name}_b_1:0`];
  return {
    name: spec.name,
    weights: [
      { name: names[0]!, shape: kernelShape, values: randomValues(kernelShape.reduce((a, b) => a * b, 1), rand) },
      { name: names[1]!, shape: [spec.cout], values: randomValues(spec.cout, rand, 0.05) },
    ],
  };
}

function sequentialConfig(specs: ConvSpec[], extra: Record<string, unknown>[] = []): unknown {
  return {
    class_name: 'Sequential',
    config: {
      name: 'sequential',
      layers: [
        { class_name: 'InputLayer', config: { batch_input_shape: [null, null, null, 3], dtype: 'float32', sparse: false, ragged: false, name: 'conv2d_input' } },
        ...specs.map((s) => ({ class_name: 'Conv2D', config: conv2dConfig(s.name, s.cout, s.k, s.activation) })),
        ...extra,
      ],
    },
    keras_version: '2.13.1',
    backend: 'tensorflow',
  };
}

/** The same network built directly in tfjs with the file's weights. */
function reference(specs: ConvSpec[], layers: FileLayer[]): tfl.Sequential {
  const model = tfl.sequential();
  specs.forEach((s, i) => {
    model.add(
      tfl.layers.conv2d({
        filters: s.cout,
        kernelSize: s.k,
        padding: 'same',
        activation: s.activation as 'relu' | 'linear',
        ...(i === 0 ? { inputShape: [null, null, 3] as [null, null, number] } : {}),
      }),
    );
  });
  model.layers.forEach((layer, i) => {
    layer.setWeights(layers[i]!.weights.map((w) => tf.tensor(w.values, w.shape)));
  });
  return model;
}

function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!);
}

async function expectInvalid(promise: Promise<unknown>, pattern: RegExp): Promise<StudioError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof StudioError, `expected a StudioError, got ${String(error)}`);
    assert.equal(error.code, 'MODEL_INVALID', error.message);
    assert.match(error.message, pattern);
    return error;
  }
  assert.fail('expected MODEL_INVALID');
}

test('a Keras 2 Sequential of Conv2D layers imports with outputs equal to the tfjs reference', async () => {
  const rand = mulberry32(7);
  const layers = SPECS.map((s) => convWeights(s, rand));
  const path = join(dir, 'seq.h5');
  await writeKerasModelFile(path, sequentialConfig(SPECS), layers);

  const { model, info } = await loadKerasModel(path);
  const ref = reference(SPECS, layers);
  const x = tf.randomUniform([2, 13, 17, 3], 0, 1, 'float32', 3);
  try {
    assert.equal(info.kerasVersion, '2.13.1');
    assert.deepEqual(info.unusedLayers, []);
    assert.deepEqual(model.inputs[0]!.shape, [null, null, null, 3]);
    const y = model.predict(x) as tf.Tensor;
    const yRef = ref.predict(x) as tf.Tensor;
    assert.deepEqual(y.shape, [2, 13, 17, 3]);
    assert.ok(maxAbsDiff(y, yRef) < 1e-6, `outputs differ by ${maxAbsDiff(y, yRef)}`);
    tf.dispose([y, yRef]);
  } finally {
    model.dispose();
    ref.dispose();
    x.dispose();
  }
});

test('a Keras 2 Functional model with a residual Add and weight-less layers imports', async () => {
  const rand = mulberry32(11);
  const spec: ConvSpec = { name: 'conv2d', cin: 3, cout: 3, k: 3, activation: 'linear' };
  const conv = convWeights(spec, rand);
  const config = {
    class_name: 'Functional',
    config: {
      name: 'model',
      layers: [
        { class_name: 'InputLayer', config: { batch_input_shape: [null, null, null, 3], dtype: 'float32', sparse: false, ragged: false, name: 'input_1' }, name: 'input_1', inbound_nodes: [] },
        { class_name: 'Conv2D', config: conv2dConfig('conv2d', 3, 3, 'linear'), name: 'conv2d', inbound_nodes: [[['input_1', 0, 0, {}]]] },
        { class_name: 'Add', config: { name: 'add', trainable: true, dtype: 'float32' }, name: 'add', inbound_nodes: [[['input_1', 0, 0, {}], ['conv2d', 0, 0, {}]]] },
      ],
      input_layers: [['input_1', 0, 0]],
      output_layers: [['add', 0, 0]],
    },
    keras_version: '2.13.1',
    backend: 'tensorflow',
  };
  const path = join(dir, 'functional.h5');
  await writeKerasModelFile(path, config, [{ name: 'input_1', weights: [] }, conv, { name: 'add', weights: [] }]);
  const { model } = await loadKerasModel(path);
  const x = tf.randomUniform([1, 9, 9, 3], 0, 1, 'float32', 5);
  try {
    const expected = tf.tidy(() =>
      tf.add(x, tf.add(tf.conv2d(x as tf.Tensor4D, tf.tensor4d(conv.weights[0]!.values, [3, 3, 3, 3]), 1, 'same'), tf.tensor1d(conv.weights[1]!.values))),
    );
    const y = model.predict(x) as tf.Tensor;
    assert.ok(maxAbsDiff(y, expected) < 1e-5);
    tf.dispose([y, expected]);
  } finally {
    model.dispose();
    x.dispose();
  }
});

test('Keras 3 idioms in model_config (batch_shape, dtype policies, keras-tensor nodes) are normalised', async () => {
  const rand = mulberry32(12);
  const conv = convWeights({ name: 'conv2d', cin: 3, cout: 3, k: 3, activation: 'linear' }, rand);
  const policy = { module: 'keras', class_name: 'DTypePolicy', config: { name: 'float32' }, registered_name: null };
  const tensor = (layer: string): unknown => ({ class_name: '__keras_tensor__', config: { shape: [null, null, null, 3], dtype: 'float32', keras_history: [layer, 0, 0] } });
  const config = {
    module: 'keras',
    class_name: 'Functional',
    config: {
      name: 'functional',
      trainable: true,
      layers: [
        { module: 'keras.layers', class_name: 'InputLayer', config: { batch_shape: [null, null, null, 3], dtype: 'float32', sparse: false, name: 'input_layer' }, registered_name: null, name: 'input_layer', inbound_nodes: [] },
        {
          module: 'keras.layers',
          class_name: 'Conv2D',
          config: { ...conv2dConfig('conv2d', 3, 3, 'linear'), dtype: policy },
          registered_name: null,
          build_config: { input_shape: [null, null, null, 3] },
          name: 'conv2d',
          inbound_nodes: [{ args: [tensor('input_layer')], kwargs: {} }],
        },
        {
          module: 'keras.layers',
          class_name: 'Add',
          config: { name: 'add', trainable: true, dtype: policy },
          registered_name: null,
          name: 'add',
          inbound_nodes: [{ args: [[tensor('input_layer'), tensor('conv2d')]], kwargs: {} }],
        },
      ],
      input_layers: ['input_layer', 0, 0],
      output_layers: ['add', 0, 0],
    },
    registered_name: 'Functional',
  };
  const path = join(dir, 'keras3.h5');
  await writeKerasModelFile(path, config, [{ name: 'add', weights: [] }, conv, { name: 'input_layer', weights: [] }], '3.3.3');
  const { model } = await loadKerasModel(path);
  try {
    assert.equal(model.countParams(), 3 * 3 * 3 * 3 + 3);
    const x = tf.ones([1, 5, 5, 3]);
    const y = model.predict(x) as tf.Tensor;
    assert.deepEqual(y.shape, [1, 5, 5, 3]);
    tf.dispose([x, y]);
  } finally {
    model.dispose();
  }
});

test('importKerasH5 writes a package that loads, with an imported-keras card', async () => {
  const rand = mulberry32(8);
  const layers = SPECS.map((s) => convWeights(s, rand));
  const path = join(dir, 'Denoiser Net.h5');
  await writeKerasModelFile(path, sequentialConfig(SPECS), layers);
  const root = join(dir, 'models');
  const saved = await importKerasH5(root, path);
  assert.equal(saved.id, 'denoiser-net');
  assert.equal(saved.card.name, 'Denoiser Net');
  assert.equal(saved.card.source, 'imported-keras');
  assert.equal(saved.card.task, 'restore');
  assert.equal(saved.card.architecture.id, 'external');
  const loaded = await loadPackageDir(saved.dir);
  const ref = reference(SPECS, layers);
  const x = tf.randomUniform([1, 8, 8, 3], 0, 1, 'float32', 4);
  try {
    const a = loaded.model.predict(x) as tf.Tensor;
    const b = ref.predict(x) as tf.Tensor;
    assert.ok(maxAbsDiff(a, b) < 1e-6);
    tf.dispose([a, b]);
  } finally {
    loaded.model.dispose();
    ref.dispose();
    x.dispose();
  }
});

test('a file that is not HDF5 is MODEL_INVALID naming the file', async () => {
  const path = join(dir, 'not-a-model.h5');
  await writeFile(path, 'this is plain text, not HDF5');
  await expectInvalid(loadKerasModel(path), /not-a-model\.h5: is not an HDF5 file/);
  await expectInvalid(importKerasH5(join(dir, 'models'), path), /not-a-model\.h5/);
});

test('an unsupported layer is MODEL_INVALID naming the layer and its type', async () => {
  const rand = mulberry32(9);
  const layers = SPECS.map((s) => convWeights(s, rand));
  const config = sequentialConfig(SPECS, [
    { class_name: 'Lambda', config: { name: 'lambda', trainable: true, dtype: 'float32', function: ['4wEAAAAA', null, null], function_type: 'lambda' } },
  ]);
  const path = join(dir, 'lambda.h5');
  await writeKerasModelFile(path, config, [...layers, { name: 'lambda', weights: [] }]);
  const error = await expectInvalid(loadKerasModel(path), /lambda\.h5: unsupported layer "lambda" \(Lambda\)/);
  assert.match(error.message, /Python code/);

  const custom = sequentialConfig(SPECS, [{ class_name: 'MyFancyLayer', config: { name: 'fancy' } }]);
  const path2 = join(dir, 'custom.h5');
  await writeKerasModelFile(path2, custom, layers);
  await expectInvalid(loadKerasModel(path2), /custom\.h5: unsupported layer "fancy" \(MyFancyLayer\)/);
});

test('weights-only files, missing weights and wrong shapes are clear MODEL_INVALID errors', async () => {
  const rand = mulberry32(10);
  const layers = SPECS.map((s) => convWeights(s, rand));
  const weightsOnly = join(dir, 'weights-only.h5');
  await writeKerasWeightsFile(weightsOnly, layers);
  await expectInvalid(loadKerasModel(weightsOnly), /weights-only\.h5: has no model_config attribute/);

  const missing = join(dir, 'missing.h5');
  await writeKerasModelFile(missing, sequentialConfig(SPECS), layers.slice(0, 2));
  await expectInvalid(loadKerasModel(missing), /missing\.h5: has no weights for layer "conv2d_2"/);

  const wrong = join(dir, 'wrong-shape.h5');
  const bad = layers.map((l) => ({ ...l, weights: l.weights.map((w) => ({ ...w })) }));
  bad[1]!.weights[0] = { name: 'conv2d_1/kernel:0', shape: [3, 3, 8, 4], values: new Float32Array(3 * 3 * 8 * 4) };
  await writeKerasModelFile(wrong, sequentialConfig(SPECS), bad);
  await expectInvalid(loadKerasModel(wrong), /wrong-shape\.h5: weight "conv2d_1\/kernel:0" of layer "conv2d_1" has shape \[3, 3, 8, 4\]; the layer needs \[3, 3, 8, 8\]/);

  const badJson = join(dir, 'bad-json.h5');
  await writeKerasModelFile(badJson, 'not json {', layers);
  await expectInvalid(loadKerasModel(badJson), /bad-json\.h5: its model_config is not a Keras model configuration/);
});

test('VGG16 notop-style weights load into vgg16-restorer by layer name, with caffe preprocessing folded in', async () => {
  const rand = mulberry32(13);
  const shapes: Record<string, [number, number]> = {
    block1_conv1: [3, 64],
    block1_conv2: [64, 64],
    block2_conv1: [64, 128],
    block2_conv2: [128, 128],
    block3_conv1: [128, 256],
    block3_conv2: [256, 256],
    block3_conv3: [256, 256],
  };
  // Keras applications' file: Keras-1 weight names, weights-only layout, plus layers the restorer lacks.
  const layers: FileLayer[] = [
    { name: 'input_1', weights: [] },
    ...VGG16_ENCODER_LAYERS.flatMap((name) => {
      const [cin, cout] = shapes[name]!;
      const layer: FileLayer = {
        name,
        weights: [
          { name: `${name}_W_1:0`, shape: [3, 3, cin, cout], values: randomValues(9 * cin * cout, rand, 0.05) },
          { name: `${name}_b_1:0`, shape: [cout], values: randomValues(cout, rand, 0.5) },
        ],
      };
      return name === 'block1_conv2' ? [layer, { name: 'block1_pool', weights: [] }] : [layer];
    }),
    { name: 'block3_pool', weights: [] },
    { name: 'block4_conv1', weights: [{ name: 'block4_conv1_W_1:0', shape: [1], values: new Float32Array(1) }] },
  ];
  const path = join(dir, 'vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5');
  await writeKerasWeightsFile(path, layers);
  const model = getArchitecture('vgg16-restorer').build();
  try {
    const loaded = await loadVgg16Weights(model, path);
    assert.deepEqual(loaded, [...VGG16_ENCODER_LAYERS]);
    // Layers after the first are copied as they are.
    const b2 = model.getLayer('block2_conv1').getWeights();
    const file = layers.find((l) => l.name === 'block2_conv1')!;
    assert.deepEqual(Array.from(b2[0]!.dataSync()), Array.from(file.weights[0]!.values));
    assert.deepEqual(Array.from(b2[1]!.dataSync()), Array.from(file.weights[1]!.values));

    // block1_conv1 on RGB [0, 1] equals the original conv on caffe inputs (BGR, 0-255, minus the means),
    // away from the border.
    const first = layers.find((l) => l.name === 'block1_conv1')!;
    const x = tf.randomUniform([1, 8, 8, 3], 0, 1, 'float32', 21) as tf.Tensor4D;
    const [ours, theirs] = tf.tidy(() => {
      const sub = tfl.model({ inputs: model.inputs, outputs: model.getLayer('block1_conv1').output as tfl.SymbolicTensor });
      const a = sub.predict(x) as tf.Tensor4D;
      const caffe = tf.sub(tf.mul(tf.reverse(x, 3), 255), tf.tensor1d([...CAFFE_MEAN_BGR]));
      const k = tf.tensor4d(first.weights[0]!.values, [3, 3, 3, 64]);
      const b = tf.relu(tf.add(tf.conv2d(caffe as tf.Tensor4D, k, 1, 'same'), tf.tensor1d(first.weights[1]!.values)));
      return [tf.slice(a, [0, 1, 1, 0], [1, 6, 6, 64]), tf.slice(b, [0, 1, 1, 0], [1, 6, 6, 64])];
    });
    const scale = tf.tidy(() => tf.max(tf.abs(theirs)).dataSync()[0]!);
    assert.ok(maxAbsDiff(ours, theirs) < 1e-4 * Math.max(1, scale), `block1_conv1 differs by ${maxAbsDiff(ours, theirs)}`);
    tf.dispose([ours, theirs, x]);

    const plain = getArchitecture('dncnn').build({ depth: 3, filters: 8 });
    await assert.rejects(loadVgg16Weights(plain, path), (e: unknown) => e instanceof StudioError && e.code === 'BAD_INPUT' && /block1_conv1/.test(e.message));
    plain.dispose();

    const partial = join(dir, 'partial-vgg.h5');
    await writeKerasWeightsFile(partial, layers.slice(0, 3));
    await expectInvalid(loadVgg16Weights(model, partial), /partial-vgg\.h5: has no weights for block2_conv1/);
  } finally {
    model.dispose();
  }
});
