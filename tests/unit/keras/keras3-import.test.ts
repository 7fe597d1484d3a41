// Keras 3 import, against files Keras 3 itself wrote (tests/fixtures/keras3/make-fixtures.py): a .keras
// archive imports as a model whose output matches Keras to 0.5/255; VGG16 encoder weights load from a .keras
// archive (by the names in config.json) and from a bare .weights.h5 (by the order Keras 3 numbers layers
// in); damaged or incomplete archives and weights-only files are refused with sentences naming the file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { unzipSync, zipSync } from 'fflate';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CAFFE_MEAN_BGR, loadKerasModel, loadVgg16Weights, VGG16_ENCODER_LAYERS } from '../../../src/main/engine/keras/index';
import { h5, isDataset, isGroup } from '../../../src/main/engine/keras/h5';
import { keras3Keys, snakeCase } from '../../../src/main/engine/keras/keras3';
import { importModel } from '../../../src/main/engine/methods/models';
import { loadPackageDir } from '../../../src/main/engine/package/index';
import { StudioError } from '#shared/rpc/errors';
import { useTestBackend } from '../../helpers/native';

await useTestBackend();

const FIXTURES = join(import.meta.dirname, '..', '..', 'fixtures', 'keras3');
const dir = await mkdtemp(join(tmpdir(), 'studio-keras3-'));
test.after(() => rm(dir, { recursive: true, force: true }));

interface Reference {
  keras: string;
  input: number[];
  shape: number[];
  restorer: { output: number[]; shape: number[] };
  sequential: { output: number[]; shape: number[] };
  vgg_block1_conv1: { output: number[]; shape: number[] };
  vgg_block3_conv3: { output: number[]; shape: number[] };
}
const reference = JSON.parse(await readFile(join(FIXTURES, 'reference.json'), 'utf8')) as Reference;
const fixture = (name: string): string => join(FIXTURES, name);

function maxAbsDiff(a: tf.Tensor | Float32Array, b: ArrayLike<number>): number {
  const values = a instanceof Float32Array ? a : (a.dataSync() as Float32Array);
  assert.equal(values.length, b.length);
  let worst = 0;
  for (let i = 0; i < values.length; i++) worst = Math.max(worst, Math.abs(values[i]! - b[i]!));
  return worst;
}

function predict(model: tfl.LayersModel, input: tf.Tensor): Float32Array {
  return tf.tidy(() => (model.predict(input) as tf.Tensor).dataSync() as Float32Array);
}

async function expectInvalid(promise: Promise<unknown>, pattern: RegExp): Promise<void> {
  await assert.rejects(promise, (e: unknown) => {
    assert.ok(e instanceof StudioError, `a StudioError, got ${String(e)}`);
    assert.equal(e.code, 'MODEL_INVALID');
    assert.match(e.message, pattern);
    return true;
  });
}

test('Keras 3 keys: class names in snake case, numbered in model order', () => {
  assert.equal(snakeCase('Conv2D'), 'conv2d');
  assert.equal(snakeCase('BatchNormalization'), 'batch_normalization');
  assert.equal(snakeCase('Conv2DTranspose'), 'conv2d_transpose');
  assert.equal(snakeCase('InputLayer'), 'input_layer');
  assert.deepEqual(keras3Keys(['InputLayer', 'Conv2D', 'BatchNormalization', 'Conv2D', 'Conv2D']), [
    'input_layer',
    'conv2d',
    'batch_normalization',
    'conv2d_1',
    'conv2d_2',
  ]);
});

test(`a .keras archive (Keras ${reference.keras}) imports as a model matching Keras to 0.5/255`, async () => {
  const x = tf.tensor(reference.input, reference.shape as [number, number, number, number]);
  const { model, info } = await loadKerasModel(fixture('restorer.keras'));
  try {
    assert.equal(info.kerasVersion, reference.keras);
    const diff = maxAbsDiff(predict(model, x), reference.restorer.output);
    assert.ok(diff <= 0.5 / 255, `differs from Keras by ${(diff * 255).toFixed(4)}/255`);
  } finally {
    model.dispose();
  }
  // Through the library's import (dispatch by content): a package whose model gives the same output.
  const modelsDir = join(dir, 'models');
  const imported = await importModel({ source: fixture('restorer.keras'), modelsDir });
  assert.equal(imported.kind, 'keras');
  assert.equal(imported.card.source, 'imported-keras');
  assert.match(imported.card.restores.description, /restorer\.keras \(Keras 3/);
  const loaded = await loadPackageDir(imported.path);
  try {
    const diff = maxAbsDiff(predict(loaded.model, x), reference.restorer.output);
    assert.ok(diff <= 0.5 / 255, `the imported package differs from Keras by ${(diff * 255).toFixed(4)}/255`);
  } finally {
    loaded.model.dispose();
    x.dispose();
  }
  // Renamed to .zip it is still told apart from a package zip by its content.
  const renamed = join(dir, 'restorer-renamed.zip');
  await writeFile(renamed, await readFile(fixture('restorer.keras')));
  assert.equal((await importModel({ source: renamed, modelsDir })).kind, 'keras');
});

test('a Sequential .keras (pooling, transposed conv) matches Keras to 0.5/255', async () => {
  const x = tf.tensor(reference.input, reference.shape as [number, number, number, number]);
  const { model } = await loadKerasModel(fixture('sequential.keras'));
  try {
    const diff = maxAbsDiff(predict(model, x), reference.sequential.output);
    assert.ok(diff <= 0.5 / 255, `differs from Keras by ${(diff * 255).toFixed(4)}/255`);
  } finally {
    model.dispose();
    x.dispose();
  }
});

test('a .keras whose model nests another model is refused, naming the layer', async () => {
  const entries = unzipSync(new Uint8Array(await readFile(fixture('restorer.keras'))));
  const config = JSON.parse(new TextDecoder().decode(entries['config.json'])) as { config: { layers: Record<string, unknown>[] } };
  const inner = { class_name: 'Sequential', name: 'backbone', config: { name: 'backbone', layers: [] }, inbound_nodes: [] };
  config.config.layers.splice(1, 0, inner);
  const nested = join(dir, 'nested.keras');
  await writeFile(nested, zipSync({ 'config.json': new TextEncoder().encode(JSON.stringify(config)), 'model.weights.h5': entries['model.weights.h5']! }));
  await expectInvalid(loadKerasModel(nested), /^nested\.keras: layer "backbone" is a nested model \(Sequential\)/);
});

test('an incomplete, truncated or weights-only Keras 3 file is refused with a sentence naming it', async () => {
  const entries = unzipSync(new Uint8Array(await readFile(fixture('restorer.keras'))));
  const noWeights = join(dir, 'no-weights.keras');
  await writeFile(noWeights, zipSync({ 'config.json': entries['config.json']!, 'metadata.json': entries['metadata.json']! }));
  await expectInvalid(importModel({ source: noWeights, modelsDir: join(dir, 'm1') }), /^no-weights\.keras: is a \.keras archive without model\.weights\.h5/);

  const bytes = await readFile(fixture('restorer.keras'));
  const truncated = join(dir, 'truncated.keras');
  await writeFile(truncated, bytes.subarray(0, Math.floor(bytes.length / 2)));
  await expectInvalid(importModel({ source: truncated, modelsDir: join(dir, 'm2') }), /^truncated\.keras: is not a readable \.keras archive \(the zip is truncated or damaged/);

  const brokenWeights = join(dir, 'broken-weights.keras');
  await writeFile(brokenWeights, zipSync({ 'config.json': entries['config.json']!, 'model.weights.h5': new Uint8Array(64) }));
  await expectInvalid(loadKerasModel(brokenWeights), /^broken-weights\.keras: its model\.weights\.h5 cannot be read: is not an HDF5 file/);

  await expectInvalid(loadKerasModel(fixture('restorer.weights.h5')), /restorer\.weights\.h5: has no model_config attribute: it holds weights only/);
  await expectInvalid(loadKerasModel(fixture('float16.keras')), /^float16\.keras: weight 0 of layer "half_conv" is stored as float16, which cannot be read here/);
});

/** vgg16-restorer's encoder layer names at the fixture's widths (4/8/16 filters instead of 64/128/256). */
function tinyEncoder(): tfl.LayersModel {
  const x = tfl.input({ shape: [null, null, 3] });
  let h: tfl.SymbolicTensor = x;
  const widths: Record<string, number> = { block1: 4, block2: 8, block3: 16 };
  for (const name of VGG16_ENCODER_LAYERS) {
    h = tfl.layers.conv2d({ filters: widths[name.slice(0, 6)]!, kernelSize: 3, padding: 'same', activation: 'relu', name }).apply(h) as tfl.SymbolicTensor;
    if (name === 'block1_conv2' || name === 'block2_conv2') h = tfl.layers.maxPooling2d({ poolSize: 2, name: name.replace(/conv2$/, 'pool') }).apply(h) as tfl.SymbolicTensor;
  }
  return tfl.model({ inputs: x, outputs: h });
}

for (const file of ['vgg-tiny.keras', 'vgg-tiny.weights.h5']) {
  test(`VGG16 encoder weights load from Keras 3's ${file.replace('vgg-tiny', '')}: block3_conv3 matches Keras, caffe preprocessing folds into block1_conv1`, async () => {
    const rgb = tf.tensor(reference.input, reference.shape as [number, number, number, number]);
    const caffe = tf.tidy(() => tf.sub(tf.mul(tf.reverse(rgb, 3), 255), tf.tensor1d([...CAFFE_MEAN_BGR])));
    const plain = tinyEncoder();
    const folded = tinyEncoder();
    try {
      assert.deepEqual(await loadVgg16Weights(plain, fixture(file), { foldPreprocessing: false }), [...VGG16_ENCODER_LAYERS]);
      const expected = reference.vgg_block3_conv3.output;
      const top = Math.max(...expected.map(Math.abs));
      const diff = maxAbsDiff(predict(plain, caffe), expected);
      assert.ok(diff <= 1e-4 * top, `block3_conv3 differs from Keras by ${diff} (max ${top})`);
      // Folded: on RGB in [0, 1], block1_conv1 equals Keras' on caffe inputs away from the border.
      await loadVgg16Weights(folded, fixture(file));
      const sub = tfl.model({ inputs: folded.inputs, outputs: folded.getLayer('block1_conv1').output as tfl.SymbolicTensor });
      const [, h, w, c] = reference.vgg_block1_conv1.shape as [number, number, number, number];
      const ours = tf.tidy(() => tf.slice(sub.predict(rgb) as tf.Tensor4D, [0, 1, 1, 0], [1, h - 2, w - 2, c]).dataSync() as Float32Array);
      const theirs = tf.tidy(() =>
        tf.slice(tf.tensor4d(reference.vgg_block1_conv1.output, [1, h, w, c]), [0, 1, 1, 0], [1, h - 2, w - 2, c]).dataSync() as Float32Array,
      );
      const firstTop = Math.max(...Array.from(theirs, Math.abs));
      assert.ok(maxAbsDiff(ours, theirs) <= 1e-4 * firstTop, `folded block1_conv1 differs by ${maxAbsDiff(ours, theirs)}`);
    } finally {
      plain.dispose();
      folded.dispose();
      tf.dispose([rgb, caffe]);
    }
  });
}

/**
 * The same weights in tf.keras 2.13-2.15's layout: _layer_checkpoint_dependencies/<layer name>/vars/i, the
 * names taken from `config` (the order Keras 3 numbered the class keys in).
 */
async function rekeyByName(from: string, to: string, config: { config: { layers: { class_name: string; name?: string; config: { name: string } }[] } }): Promise<void> {
  const lib = await h5();
  const source = new lib.File(from, 'r');
  const target = new lib.File(to, 'w');
  try {
    const layers = config.config.layers;
    const keys = keras3Keys(layers.map((l) => l.class_name));
    const root = target.create_group('_layer_checkpoint_dependencies');
    layers.forEach((layer, i) => {
      const vars = source.get(`layers/${keys[i]}/vars`);
      const group = root.create_group(layer.name ?? layer.config.name).create_group('vars');
      if (!isGroup(vars)) return;
      for (const k of vars.keys()) {
        const ds = vars.get(k);
        if (isDataset(ds)) group.create_dataset({ name: k, data: ds.value as Float32Array, shape: ds.shape ?? [], dtype: '<f' });
      }
    });
  } finally {
    source.close();
    target.close();
  }
}

test('tf.keras 2.13-2.15 .keras files (weights keyed by layer name) import too, for models and VGG16', async () => {
  const entries = unzipSync(new Uint8Array(await readFile(fixture('restorer.keras'))));
  const config = JSON.parse(new TextDecoder().decode(entries['config.json']));
  const h5Path = join(dir, 'restorer-by-name.weights.h5');
  await rekeyByName(fixture('restorer.weights.h5'), h5Path, config);
  const archive = join(dir, 'restorer-tf213.keras');
  await writeFile(archive, zipSync({ 'config.json': entries['config.json']!, 'model.weights.h5': new Uint8Array(await readFile(h5Path)) }));
  const x = tf.tensor(reference.input, reference.shape as [number, number, number, number]);
  const { model } = await loadKerasModel(archive);
  try {
    const diff = maxAbsDiff(predict(model, x), reference.restorer.output);
    assert.ok(diff <= 0.5 / 255, `differs from Keras by ${(diff * 255).toFixed(4)}/255`);
  } finally {
    model.dispose();
    x.dispose();
  }
  const vggConfig = JSON.parse(new TextDecoder().decode(unzipSync(new Uint8Array(await readFile(fixture('vgg-tiny.keras'))))['config.json']));
  const vggPath = join(dir, 'vgg-by-name.weights.h5');
  await rekeyByName(fixture('vgg-tiny.weights.h5'), vggPath, vggConfig);
  const encoder = tinyEncoder();
  try {
    assert.deepEqual(await loadVgg16Weights(encoder, vggPath, { foldPreprocessing: false }), [...VGG16_ENCODER_LAYERS]);
    const caffe = tf.tidy(() => tf.sub(tf.mul(tf.reverse(tf.tensor(reference.input, reference.shape as [number, number, number, number]), 3), 255), tf.tensor1d([...CAFFE_MEAN_BGR])));
    const expected = reference.vgg_block3_conv3.output;
    const diff = maxAbsDiff(predict(encoder, caffe), expected);
    assert.ok(diff <= 1e-4 * Math.max(...expected.map(Math.abs)), `block3_conv3 differs by ${diff}`);
    caffe.dispose();
  } finally {
    encoder.dispose();
  }
});

test("a Keras 3 weights file of another network is refused for VGG16, naming what is missing", async () => {
  const model = tinyEncoder();
  try {
    await expectInvalid(loadVgg16Weights(model, fixture('restorer.weights.h5')), /^restorer\.weights\.h5: has no weights for block2_conv2, block3_conv1/);
    await expectInvalid(loadVgg16Weights(model, fixture('restorer.keras')), /^restorer\.keras: has no weights for block1_conv1/);
  } finally {
    model.dispose();
  }
});
