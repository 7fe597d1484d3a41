import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import {
  ARCHITECTURE_IDS,
  ARCHITECTURES,
  extractFeatures,
  getArchitecture,
  listArchitectures,
} from '../../../src/main/engine/models/index';
import { PixelShuffle, PixelUnshuffle, PadToMultiple } from '../../../src/main/engine/models/layers';
import { StudioError } from '#shared/rpc/errors';
import { ArchitectureInfoSchema } from '#shared/model-card';
import { useTestBackend } from '../../helpers/native';

await useTestBackend();

test('the registry lists every architecture by id', () => {
  assert.deepEqual(
    [...ARCHITECTURE_IDS].sort(),
    ['autoencoder', 'classifier', 'damage-unet', 'ddsrcnn', 'dncnn', 'esrcnn', 'ffdnet', 'fill-unet', 'nafnet-tiny', 'unet', 'vgg16-restorer'],
  );
  for (const info of listArchitectures()) {
    ArchitectureInfoSchema.parse(info);
    assert.ok(info.description.length > 20, info.id);
    for (const spec of info.hyperParams) assert.ok(spec.key in ARCHITECTURES[info.id].defaults);
  }
  assert.throws(() => getArchitecture('nope'), (e: unknown) => e instanceof StudioError && e.code === 'MODEL_NOT_FOUND' && /esrcnn/.test(e.message));
});

test('ESRCNN has exactly 89,795 and DDSRCNN exactly 1,113,475 parameters with 3 channels', () => {
  assert.equal(ARCHITECTURES.esrcnn.paramCount(), 89_795);
  assert.equal(ARCHITECTURES.ddsrcnn.paramCount(), 1_113_475);
  const m = ARCHITECTURES.esrcnn.build();
  try {
    assert.equal(m.countParams(), 89_795);
    assert.ok(m.layers.some((l) => l.getClassName() === 'Average'));
  } finally {
    m.dispose();
  }
});

test('VGG16 restorer keeps the Keras layer names up to block3_pool', () => {
  const m = ARCHITECTURES['vgg16-restorer'].build();
  try {
    const names = m.layers.map((l) => l.name);
    for (const n of ['block1_conv1', 'block1_conv2', 'block1_pool', 'block2_conv1', 'block2_conv2', 'block2_pool', 'block3_conv1', 'block3_conv2', 'block3_conv3', 'block3_pool']) {
      assert.ok(names.includes(n), n);
    }
    assert.ok(m.layers.some((l) => l.getClassName() === 'Conv2DTranspose'));
    assert.ok(m.layers.some((l) => l.getClassName() === 'UpSampling2D'));
    // VGG16 blocks 1-3 alone hold 1,735,488 weights (Keras' numbers).
    const vgg = m.layers.filter((l) => l.name.startsWith('block')).reduce((s, l) => s + l.countParams(), 0);
    assert.equal(vgg, 1_735_488);
  } finally {
    m.dispose();
  }
});

test('every restorer builds, reports params and MACs, and runs forward on odd sizes', () => {
  const before = tf.memory().numTensors;
  for (const id of ARCHITECTURE_IDS) {
    const arch = ARCHITECTURES[id];
    if (arch.task !== 'restore') continue;
    const stats = arch.stats();
    assert.ok(stats.params > 0 && stats.macsPerPixel > 0, id);
    const m = arch.build();
    try {
      assert.equal(m.countParams(), stats.params, id);
      for (const [h, w] of [
        [13, 11],
        [9, 17],
      ] as const) {
        const y = tf.tidy(() => m.predict(tf.randomUniform([1, h, w, 3])) as tf.Tensor);
        assert.deepEqual(y.shape, [1, h, w, 3], `${id} ${h}x${w}`);
        assert.ok(Number.isFinite(tf.tidy(() => tf.sum(y).dataSync()[0]!)), id);
        y.dispose();
      }
      const multiple = arch.requiredMultiple();
      assert.ok(Number.isInteger(multiple) && multiple >= 1);
      if (multiple > 1) assert.equal(arch.padsInternally, true, id);
    } finally {
      m.dispose();
    }
  }
  assert.equal(tf.memory().numTensors, before);
});

test('hyper-parameters change the build and are validated', () => {
  const small = ARCHITECTURES.dncnn.paramCount({ depth: 3, filters: 8 });
  // 3x3x3x8+8, 3x3x8x8+8, 3x3x8x3+3
  assert.equal(small, 224 + 584 + 219);
  assert.ok(ARCHITECTURES.dncnn.macsPerPixel({ depth: 3, filters: 8 }) > 900);
  assert.equal(ARCHITECTURES.unet.requiredMultiple({ depth: 2 }), 4);
  assert.equal(ARCHITECTURES['nafnet-tiny'].requiredMultiple({ levels: 3 }), 8);
  const bad = (f: () => unknown, re: RegExp): void =>
    assert.throws(f, (e: unknown) => e instanceof StudioError && e.code === 'BAD_INPUT' && re.test(e.message));
  bad(() => ARCHITECTURES.dncnn.build({ depth: 2 }), /depth.*at least 3/);
  bad(() => ARCHITECTURES.dncnn.build({ filters: 8.5 }), /whole number/);
  bad(() => ARCHITECTURES.dncnn.build({ colour: 1 }), /no hyper-parameter "colour"/);
  bad(() => ARCHITECTURES.ffdnet.build({ noiseInput: 'guess' }), /blind, fixed/);
  bad(() => ARCHITECTURES.classifier.build({ inputSize: 20 }), /too small/);
  // BN variant builds and adds moving statistics
  const bn = ARCHITECTURES.dncnn.build({ depth: 4, filters: 8, batchNorm: true });
  try {
    assert.ok(bn.layers.some((l) => l.getClassName() === 'BatchNormalization'));
  } finally {
    bn.dispose();
  }
  const fixed = ARCHITECTURES.ffdnet.build({ depth: 3, filters: 8, noiseInput: 'fixed', noiseSigma: 25 });
  try {
    assert.ok(fixed.layers.some((l) => l.getClassName() === 'NoiseLevelMap'));
    const y = tf.tidy(() => fixed.predict(tf.zeros([1, 7, 5, 3])) as tf.Tensor);
    assert.deepEqual(y.shape, [1, 7, 5, 3]);
    y.dispose();
  } finally {
    fixed.dispose();
  }
});

test('classifier: sigmoid output and feature_dense features', () => {
  const m = ARCHITECTURES.classifier.build({ inputSize: 48, filters: 4, denseUnits: 16 });
  try {
    assert.deepEqual(m.layers.filter((l) => l.getClassName() === 'MaxPooling2D').length, 4);
    const x = tf.randomUniform([3, 48, 48, 3]) as tf.Tensor4D;
    const p = m.predict(x) as tf.Tensor;
    assert.deepEqual(p.shape, [3, 1]);
    const values = p.dataSync();
    for (const v of values) assert.ok(v > 0 && v < 1);
    const f = extractFeatures(m, x);
    assert.deepEqual(f.shape, [3, 16]);
    for (const v of f.dataSync()) assert.ok(v >= 0); // ReLU activations
    tf.dispose([x, p, f]);
  } finally {
    m.dispose();
  }
  // default: the source study's 150x150 input, 32/64/128/128 filters, dense 64
  const d = ARCHITECTURES.classifier.build();
  try {
    assert.deepEqual(d.inputs[0]!.shape, [null, 150, 150, 3]);
    assert.deepEqual(
      d.layers.filter((l) => l.getClassName() === 'Conv2D').map((l) => (l.getConfig() as { filters: number }).filters),
      [32, 64, 128, 128],
    );
    assert.equal(d.getLayer('feature_dense').countParams(), 7 * 7 * 128 * 64 + 64);
  } finally {
    d.dispose();
  }
});

test('pixel (un)shuffle: TensorFlow space_to_depth ordering and exact inverse', () => {
  tf.tidy(() => {
    // 1x2x2x1 → 1x1x1x4 in (row, col) order
    const x = tf.tensor4d([1, 2, 3, 4], [1, 2, 2, 1]);
    const un = new PixelUnshuffle({ blockSize: 2 }).apply(x) as tf.Tensor;
    assert.deepEqual(un.shape, [1, 1, 1, 4]);
    assert.deepEqual(Array.from(un.dataSync()), [1, 2, 3, 4]);
    // channels interleave: 1x2x2x2, channel c of pixel (r, q) → out channel (r*2+q)*2+c
    const y = tf.tensor4d([10, 11, 20, 21, 30, 31, 40, 41], [1, 2, 2, 2]);
    const uy = new PixelUnshuffle({ blockSize: 2 }).apply(y) as tf.Tensor;
    assert.deepEqual(Array.from(uy.dataSync()), [10, 11, 20, 21, 30, 31, 40, 41]);
    const big = tf.randomUniform([2, 6, 4, 3]);
    const round = new PixelShuffle({ blockSize: 2 }).apply(new PixelUnshuffle({ blockSize: 2 }).apply(big)) as tf.Tensor;
    assert.equal(tf.max(tf.abs(tf.sub(round, big))).dataSync()[0], 0);
    const viaCore = tf.depthToSpace(new PixelUnshuffle({ blockSize: 2 }).apply(big) as tf.Tensor4D, 2);
    assert.equal(tf.max(tf.abs(tf.sub(viaCore, big))).dataSync()[0], 0);
  });
});

test('PadToMultiple pads by mirroring (or repeating tiny edges) and has gradients', () => {
  tf.tidy(() => {
    const x = tf.tensor4d([1, 2, 3], [1, 1, 3, 1]);
    const y = new PadToMultiple({ multiple: 4 }).apply(x) as tf.Tensor;
    assert.deepEqual(y.shape, [1, 4, 4, 1]);
    assert.deepEqual(Array.from(y.dataSync()).slice(0, 4), [1, 2, 3, 3]);
    const g = tf.grad((t: tf.Tensor) => tf.sum(new PadToMultiple({ multiple: 4 }).apply(t) as tf.Tensor))(x);
    assert.equal(tf.sum(g).dataSync()[0], 16);
  });
});
