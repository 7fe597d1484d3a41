// Model lookup and what the tiler learns from a model's layers; tile planning and out-of-memory detection;
// triage scoring on crops.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import '@tensorflow/tfjs-backend-cpu';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { getArchitecture } from '../../../src/main/engine/models/index';
import { analyseLayers, loadRestoreModel, resolveModelDir, wrapLayersModel } from '../../../src/main/engine/infer/model';
import { isOutOfMemory, overlapFor, planTiles, smallerTile } from '../../../src/main/engine/infer/memory';
import { cropOrigins, scoreImage, triageFolder, wrapClassifier } from '../../../src/main/engine/infer/triage';
import { StudioError } from '#shared/rpc/errors';
import { residualModel, saveModelFolder, tempDir } from './helpers';
import { useTestBackend } from '../../helpers/native';

let root: string;
let cleanup: () => Promise<void>;

before(async () => {
  await useTestBackend();
  ({ dir: root, cleanup } = await tempDir('studio-restore-model-'));
});

after(async () => {
  await cleanup();
});

test('receptive radius and size multiple are read from the layers', () => {
  const dncnn = getArchitecture('dncnn').build({ depth: 10, filters: 16 });
  const a = analyseLayers(dncnn);
  assert.equal(a.receptiveRadius, 10, 'ten 3x3 convs reach 10 pixels');
  assert.equal(a.multiple, 1);
  assert.ok(a.bytesPerPixel >= 3 * 16 * 4);
  dncnn.dispose();
  const unet = getArchitecture('unet').build({});
  const u = analyseLayers(unet);
  assert.equal(u.multiple, getArchitecture('unet').requiredMultiple({}));
  assert.ok(u.receptiveRadius > 20);
  unet.dispose();
  const model = wrapLayersModel(residualModel(), { id: 'r', name: 'r', fingerprint: 'r' });
  assert.equal(model.receptiveRadius, 2);
  model.dispose();
});

test('tile plans: overlap covers twice the receptive radius, tiles shrink by halves to 128', () => {
  const base = { id: 'm', name: 'm', fingerprint: 'm', run: (x: tf.Tensor4D) => x, multiple: 4, receptiveRadius: 10, bytesPerPixel: 1000, fixedSize: null, dispose: () => {} };
  assert.equal(overlapFor(base, 512), 20);
  assert.equal(overlapFor(base, 128), 20);
  assert.equal(overlapFor({ ...base, receptiveRadius: 40 }, 128), 32);
  assert.equal(overlapFor({ ...base, receptiveRadius: Infinity }, 512), 128);
  const plan = planTiles(base, 300);
  assert.equal(plan.tile % 4, 0);
  const auto = planTiles(base, undefined, 256 * 1024 ** 2);
  assert.ok(auto.tile >= 128 && auto.tile <= 1024 && auto.tile % 64 === 0, `auto tile ${auto.tile}`);
  assert.ok(planTiles(base, undefined, 64 * 1024 ** 2).tile < auto.tile, 'less memory, smaller tiles');
  assert.deepEqual([smallerTile(1024), smallerTile(512), smallerTile(256), smallerTile(128)], [512, 256, 128, null]);
  assert.equal(smallerTile(200), 128);
});

test('out-of-memory errors are recognised, others are not', () => {
  assert.ok(isOutOfMemory(new RangeError('Array buffer allocation failed')));
  assert.ok(isOutOfMemory(new RangeError('offset is out of bounds')));
  assert.ok(isOutOfMemory(new Error('Aborted(OOM)')));
  assert.ok(isOutOfMemory(new Error('Cannot enlarge memory arrays to size 123 bytes')));
  assert.ok(!isOutOfMemory(new Error('Input buffer contains unsupported image format')));
  assert.ok(!isOutOfMemory(new TypeError('x is not a function')));
});

test('models are found by folder or id; a missing model names where to get one', async () => {
  const models = join(root, 'models');
  const bundled = join(root, 'bundled');
  await saveModelFolder(residualModel(), join(models, 'mine'));
  await saveModelFolder(residualModel(), join(bundled, 'old-photo'));
  const lookup = { modelsDir: models, bundledDir: bundled };
  assert.equal(await resolveModelDir('mine', 'restore', lookup), join(models, 'mine'));
  assert.equal(await resolveModelDir(join(models, 'mine'), 'restore', lookup), join(models, 'mine'));
  assert.equal(await resolveModelDir(undefined, 'restore', lookup), join(bundled, 'old-photo'));
  await assert.rejects(resolveModelDir(undefined, 'restore', { modelsDir: models, bundledDir: join(root, 'none') }), (e: StudioError) => {
    assert.equal(e.code, 'MODEL_NOT_FOUND');
    assert.match(e.message, /old-photo/);
    assert.match(e.message, /--model/);
    return true;
  });
  await assert.rejects(resolveModelDir('other', 'restore', lookup), (e: StudioError) => e.code === 'MODEL_NOT_FOUND' && /models: mine, old-photo/.test(e.message));
  await mkdir(join(root, 'not-a-model'));
  await assert.rejects(resolveModelDir(join(root, 'not-a-model'), 'restore', lookup), (e: StudioError) => e.code === 'MODEL_INVALID');
  await writeFile(join(root, 'not-a-model', 'model.json'), '{"format":"layers-model"}');
  await assert.rejects(loadRestoreModel(join(root, 'not-a-model'), lookup), (e: StudioError) => e.code === 'MODEL_INVALID');
  const loaded = await loadRestoreModel('mine', lookup);
  assert.equal(loaded.id, 'mine');
  assert.match(loaded.fingerprint, /^[0-9a-f]{16}$/);
  loaded.dispose();
  // A classifier is not a restoration model.
  const classifier = getArchitecture('classifier').build({ inputSize: 48 });
  await saveModelFolder(classifier, join(models, 'cls'));
  classifier.dispose();
  await assert.rejects(loadRestoreModel('cls', lookup), (e: StudioError) => e.code === 'MODEL_INVALID');
});

test('single-channel restoration models run once per colour channel', async () => {
  const x = tfl.input({ shape: [null, null, 1] });
  const conv = tfl.layers.conv2d({ filters: 1, kernelSize: 1, useBias: false });
  const m = tfl.model({ inputs: x, outputs: conv.apply(x) as tfl.SymbolicTensor });
  conv.setWeights([tf.tensor4d([2], [1, 1, 1, 1])]);
  const model = wrapLayersModel(m, { id: 'g', name: 'g', fingerprint: 'g' });
  const y = model.run(tf.tensor4d([0.1, 0.2, 0.3], [1, 1, 1, 3]));
  assert.deepEqual(Array.from(await y.data()).map((v) => Number(v.toFixed(4))), [0.2, 0.4, 0.6]);
  y.dispose();
  model.dispose();
});

test('triage scores crops of each photo and sorts most damaged first', async () => {
  const crops = cropOrigins(100, 60, 16, 16, 5);
  assert.equal(crops.length, 5);
  assert.ok(crops.every(([x, y]) => x >= 0 && y >= 0 && x + 16 <= 100 && y + 16 <= 60));
  // Score = mean red of the crops.
  const x = tfl.input({ shape: [16, 16, 3] });
  const pooled = tfl.layers.globalAveragePooling2d({}).apply(x) as tfl.SymbolicTensor;
  const dense = tfl.layers.dense({ units: 1, activation: 'linear' });
  const m = tfl.model({ inputs: x, outputs: dense.apply(pooled) as tfl.SymbolicTensor });
  dense.setWeights([tf.tensor2d([[1], [0], [0]]), tf.tensor1d([0])]);
  const classifier = wrapClassifier(m, { id: 'c', name: 'c' });
  const before = tf.memory().numTensors;
  // A small photo (8x8) is scaled up to cover the input.
  const tiny = { width: 8, height: 8, data: new Float32Array(8 * 8 * 3).fill(0.25) };
  assert.ok(Math.abs((await scoreImage(classifier, tiny)) - 0.25) < 1e-5);
  assert.equal(tf.memory().numTensors, before);
  const dir = join(root, 'triage');
  const sharp = (await import('sharp')).default;
  await mkdir(dir);
  for (const [name, red] of [['a.png', 10], ['b.png', 200], ['c.png', 100]] as const) {
    await sharp({ create: { width: 64, height: 48, channels: 3, background: { r: red, g: 0, b: 0 } } }).png().toFile(join(dir, name));
  }
  const result = await triageFolder({ dir, classifier });
  assert.deepEqual(result.scores.map((s) => s.file), ['b.png', 'c.png', 'a.png']);
  assert.throws(() => wrapClassifier(residualModel(), { id: 'r', name: 'r' }), (e: StudioError) => e.code === 'MODEL_INVALID');
  classifier.dispose();
});
