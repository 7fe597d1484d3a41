// The native backend's own kernels (src/main/engine/kernels/native-fused.ts) compute what the ops they replace
// compute: the fused convolution (bias and activation inside TensorFlow's conv op) against conv2d + add +
// activation, and ReluGrad against dy * step(x), outputs and gradients within 1e-4 relative on fresh random
// inputs, and neither leaves a tensor behind. Runs where the native engine is built.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../../src/main/engine/backend';
import { fusionRuns, nativeFusion, setNativeFusion, type NativeBackend, type NativeFusion } from '../../../src/main/engine/kernels/native-fused';
import { NATIVE } from '../../helpers/native';
import { describeFailure, random, relativeError, TOLERANCE } from './helpers';

const skip =
  (!NATIVE && 'the native engine is not built here (npm run engine:native)') ||
  (process.env.STUDIO_NATIVE_KERNELS?.trim() === '0' && 'STUDIO_NATIVE_KERNELS=0 turns the native kernels off');
if (NATIVE && !skip) await initBackend('tensorflow');

type Activation = 'linear' | 'relu' | 'relu6' | 'elu' | 'leakyrelu' | 'sigmoid';
// Numeric pads as explicit paddings: tfjs-node's own Conv2D (the reference here) refuses numbers.
type Pad = 'same' | 'valid' | [[number, number], [number, number], [number, number], [number, number]];
// [batch, height, width, in channels, out channels, kernel, strides, pad]
type Case = [number, number, number, number, number, number, number | [number, number], Pad];
const CASES: Case[] = [
  [2, 8, 8, 3, 4, 3, 1, 'same'],
  [2, 9, 7, 4, 3, 3, 2, 'same'],
  [2, 9, 7, 4, 3, 3, 2, 'valid'],
  [1, 10, 10, 3, 5, 5, 1, [[0, 0], [2, 2], [2, 2], [0, 0]]],
  [2, 7, 9, 3, 4, 4, 2, [[0, 0], [1, 2], [0, 3], [0, 0]]],
  [2, 6, 6, 8, 8, 1, 1, 'valid'],
  [2, 11, 5, 3, 4, 3, [2, 1], 'same'],
];
const ACTIVATIONS: Activation[] = ['linear', 'relu', 'relu6', 'elu', 'leakyrelu', 'sigmoid'];

function tensor(shape: number[], range?: [number, number]): tf.Tensor {
  const r = random(shape, range);
  return tf.tensor(r.values, r.shape);
}

/** What the fused kernel replaces: separate conv2d, add and activation ops. */
function unfused(x: tf.Tensor4D, w: tf.Tensor4D, b: tf.Tensor1D, strides: Case[6], pad: Pad, activation: Activation): tf.Tensor {
  const y = tf.add(tf.conv2d(x, w, strides, pad), b);
  switch (activation) {
    case 'linear':
      return y;
    case 'relu':
      return tf.relu(y);
    case 'relu6':
      return tf.relu6(y);
    case 'elu':
      return tf.elu(y);
    case 'leakyrelu':
      return tf.leakyRelu(y, 0.2);
    case 'sigmoid':
      return tf.sigmoid(y);
  }
}

test(`the backend runs the fused convolution as one native op where it can (here: ${skip ? 'not run' : nativeFusion(tf.backend() as never)})`, { skip }, () => {
  // Every TensorFlow with oneDNN on x86 has at least _MklNativeConv2DWithBias; 'separate' would mean none of the fused ops ran.
  assert.notEqual(nativeFusion(native()), 'separate');
});

const FUSIONS: NativeFusion[] = ['mkl-fused', 'fused', 'mkl-bias', 'separate'];
const native = (): NativeBackend => tf.backend() as unknown as NativeBackend;

for (const fusion of FUSIONS) {
  const runs = !skip && fusionRuns(native(), fusion);
  test(`FusedConv2D as ${fusion}: every case and activation equals conv2d + add + activation`, { skip: skip || (!runs && `${fusion} does not run here`) }, () => {
    setNativeFusion(native(), fusion);
    try {
      for (const c of CASES) {
        const [n, h, w, ci, co, k, strides, pad] = c;
        const x = tensor([n, h, w, ci]) as tf.Tensor4D;
        const filter = tensor([k, k, ci, co], [-0.5, 0.5]) as tf.Tensor4D;
        const bias = tensor([co]) as tf.Tensor1D;
        for (const activation of ACTIVATIONS) {
          const before = tf.memory().numTensors;
          const [actual, expected] = tf.tidy(() => [
            tf.fused.conv2d({ x, filter, strides, pad, bias, activation, leakyreluAlpha: 0.2 }).dataSync(),
            unfused(x, filter, bias, strides, pad, activation).dataSync(),
          ]);
          assert.equal(tf.memory().numTensors, before, `${fusion} ${activation}: tensors left behind`);
          const err = relativeError(actual!, expected!);
          assert.ok(err < TOLERANCE, describeFailure(`${fusion} ${JSON.stringify(c)} ${activation}`, err));
        }
        tf.dispose([x, filter, bias]);
      }
    } finally {
      setNativeFusion(native(), null);
    }
  });
}

test('FusedConv2D without a bias, and with a bias the native ops do not take, equals the unfused ops', { skip }, () => {
  const x = tensor([2, 8, 8, 3]) as tf.Tensor4D;
  const filter = tensor([3, 3, 3, 4]) as tf.Tensor4D;
  const scalarBias = tensor([1]);
  const before = tf.memory().numTensors;
  tf.tidy(() => {
    const plain = relativeError(tf.fused.conv2d({ x, filter, strides: 1, pad: 'same', activation: 'relu' }).dataSync(), tf.relu(tf.conv2d(x, filter, 1, 'same')).dataSync());
    assert.ok(plain < TOLERANCE, describeFailure('no bias', plain));
    const scalar = relativeError(
      tf.fused.conv2d({ x, filter, strides: 1, pad: 'same', bias: scalarBias, activation: 'relu' }).dataSync(),
      tf.relu(tf.add(tf.conv2d(x, filter, 1, 'same'), scalarBias)).dataSync(),
    );
    assert.ok(scalar < TOLERANCE, describeFailure('bias [1]', scalar));
  });
  assert.equal(tf.memory().numTensors, before);
  tf.dispose([x, filter, scalarBias]);
});

test('the gradients of a fused convolution (the training path of linear convs) equal the unfused ops', { skip }, () => {
  // tfjs-node's Conv2DBackpropInput takes 'same' and 'valid' only.
  for (const c of CASES.filter((k) => typeof k[7] === 'string')) {
    const [n, h, w, ci, co, k, strides, pad] = c;
    const x = tensor([n, h, w, ci]) as tf.Tensor4D;
    const filter = tensor([k, k, ci, co], [-0.5, 0.5]) as tf.Tensor4D;
    const bias = tensor([co]) as tf.Tensor1D;
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      type Conv = (a: tf.Tensor4D, b: tf.Tensor4D, c: tf.Tensor1D) => tf.Tensor;
      const loss = (f: Conv) => (...t: tf.Tensor[]) => tf.sum(tf.square(f(t[0] as tf.Tensor4D, t[1] as tf.Tensor4D, t[2] as tf.Tensor1D)));
      const fused = tf.grads(loss((a, b, c) => tf.fused.conv2d({ x: a, filter: b, strides, pad, bias: c })))([x, filter, bias]);
      const plain = tf.grads(loss((a, b, c) => unfused(a, b, c, strides, pad, 'linear')))([x, filter, bias]);
      fused.forEach((g, i) => {
        const err = relativeError(g.dataSync(), plain[i]!.dataSync());
        assert.ok(err < TOLERANCE, describeFailure(`${JSON.stringify(c)} gradient ${['x', 'filter', 'bias'][i]}`, err));
      });
    });
    assert.equal(tf.memory().numTensors, before);
    tf.dispose([x, filter, bias]);
  }
});

test("relu's gradient (native ReluGrad) equals dy * step(x)", { skip }, () => {
  for (const shape of [[7], [3, 5], [2, 9, 7, 4], [16, 8, 8, 32]]) {
    const x = tensor(shape);
    const dy = tensor(shape);
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      const [g] = tf.grads((a: tf.Tensor) => tf.relu(a))([x], dy);
      const expected = tf.mul(dy, tf.cast(tf.greater(x, 0), 'float32'));
      const err = relativeError(g!.dataSync(), expected.dataSync());
      assert.ok(err < TOLERANCE, describeFailure(`relu gradient ${JSON.stringify(shape)}`, err));
    });
    assert.equal(tf.memory().numTensors, before);
    tf.dispose([x, dy]);
  }
});

test('relu keeps its own gradient on the other backends', { skip }, async () => {
  await tf.setBackend('cpu');
  try {
    const x = tf.tensor1d([-2, -0.5, 0.5, 2]);
    const [g] = tf.grads((a: tf.Tensor) => tf.relu(a))([x], tf.tensor1d([1, 2, 3, 4]));
    assert.deepEqual(Array.from(g!.dataSync()), [0, 0, 3, 4]);
    tf.dispose([x, g!]);
  } finally {
    await tf.setBackend('tensorflow');
  }
});

// Conv2D layers (./native-conv-layer): the fused kernel and its gradient (ReluGrad, filter-and-bias gradient in one
// op, input gradient) against the same layer's weights through separate tfjs ops.
type LayerCase = { kernelSize: number; strides: number; padding: 'same' | 'valid'; activation: 'relu' | 'linear'; channels: [number, number] };
const LAYER_CASES: LayerCase[] = [
  { kernelSize: 3, strides: 1, padding: 'same', activation: 'relu', channels: [3, 8] },
  { kernelSize: 3, strides: 2, padding: 'same', activation: 'relu', channels: [4, 5] },
  { kernelSize: 3, strides: 1, padding: 'valid', activation: 'linear', channels: [6, 3] },
  { kernelSize: 1, strides: 1, padding: 'same', activation: 'linear', channels: [8, 3] },
  { kernelSize: 2, strides: 2, padding: 'valid', activation: 'relu', channels: [3, 4] },
];

test('Conv2D layers run the fused kernel, and their outputs and gradients equal separate ops', { skip }, async () => {
  const tfl = await import('@tensorflow/tfjs-layers');
  for (const c of LAYER_CASES) {
    const layer = tfl.layers.conv2d({ filters: c.channels[1], kernelSize: c.kernelSize, strides: c.strides, padding: c.padding, activation: c.activation, biasInitializer: 'randomNormal' });
    const x = tensor([2, 9, 7, c.channels[0]]) as tf.Tensor4D;
    layer.apply(x); // builds the weights
    // The layer's own variables (disposed with the layer).
    const [kernel, bias] = layer.getWeights() as [tf.Tensor4D, tf.Tensor1D];
    const before = tf.memory().numTensors;
    const profile = await tf.profile(() => tf.tidy(() => layer.apply(x) as tf.Tensor).dispose());
    assert.ok(profile.kernelNames.includes('StudioFusedConv2D'), `${JSON.stringify(c)}: ran ${profile.kernelNames.join(', ')}`);
    tf.tidy(() => {
      const separate = (a: tf.Tensor4D, k: tf.Tensor4D, b: tf.Tensor1D): tf.Tensor => {
        const y = tf.add(tf.conv2d(a, k, c.strides, c.padding), b);
        return c.activation === 'relu' ? tf.relu(y) : y;
      };
      const err = relativeError((layer.apply(x) as tf.Tensor).dataSync(), separate(x, kernel, bias).dataSync());
      assert.ok(err < TOLERANCE, describeFailure(`${JSON.stringify(c)} output`, err));
      // Gradients with respect to the input and the weights (the layer's own variables).
      const [kernelVar, biasVar] = layer.trainableWeights.map((w) => w.read() as tf.Variable);
      const loss = (a: tf.Tensor): tf.Scalar => tf.sum(tf.square(layer.apply(a) as tf.Tensor));
      const { grads } = tf.variableGrads(() => loss(x), [kernelVar!, biasVar!]);
      const dx = tf.grad(loss)(x);
      const expected = tf.grads((a: tf.Tensor, k: tf.Tensor, b: tf.Tensor) => tf.sum(tf.square(separate(a as tf.Tensor4D, k as tf.Tensor4D, b as tf.Tensor1D))))([x, kernel, bias]);
      [dx, grads[kernelVar!.name]!, grads[biasVar!.name]!].forEach((g, i) => {
        const e = relativeError(g.dataSync(), expected[i]!.dataSync());
        assert.ok(e < TOLERANCE, describeFailure(`${JSON.stringify(c)} gradient of ${['x', 'kernel', 'bias'][i]}`, e));
      });
    });
    assert.equal(tf.memory().numTensors, before, `${JSON.stringify(c)}: tensors left behind`);
    x.dispose();
    layer.dispose();
  }
});

test('Conv2D layers the fused kernel does not take (elu, no bias, dilation) keep tfjs-layers\' own call', { skip }, async () => {
  const tfl = await import('@tensorflow/tfjs-layers');
  const x = tensor([1, 8, 8, 3]) as tf.Tensor4D;
  for (const args of [{ activation: 'elu' as const }, { useBias: false, activation: 'relu' as const }, { dilationRate: 2, activation: 'relu' as const }]) {
    const layer = tfl.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', ...args });
    layer.apply(x);
    const profile = await tf.profile(() => tf.tidy(() => layer.apply(x) as tf.Tensor).dispose());
    assert.ok(!profile.kernelNames.includes('StudioFusedConv2D'), `${JSON.stringify(args)}: ran ${profile.kernelNames.join(', ')}`);
    layer.dispose();
  }
  x.dispose();
});

test("MaxPool and its gradient (oneDNN) equal cpu's, ties included", { skip }, async () => {
  type PoolCase = [number[], number, number, 'same' | 'valid'];
  const cases: PoolCase[] = [
    [[2, 8, 8, 3], 2, 2, 'valid'],
    [[2, 9, 7, 4], 2, 2, 'same'],
    [[1, 10, 10, 2], 3, 2, 'same'],
    [[2, 7, 9, 3], 3, 1, 'valid'],
    [[16, 16, 16, 8], 2, 2, 'valid'],
  ];
  for (const [shape, size, stride, pad] of cases) {
    for (const ties of [false, true]) {
      // With ties: ReLU-like inputs, whole windows of zeros and repeated maxima.
      const values = random(shape, ties ? [-2, 2] : [-1, 1]).values.map((v) => (ties ? Math.max(0, Math.round(v)) : v));
      const run = async (backend: string): Promise<Float32Array> => {
        await tf.setBackend(backend);
        const before = tf.memory().numTensors;
        const out = tf.tidy(() => {
          const input = tf.tensor4d(values, shape as [number, number, number, number]);
          const pool = (a: tf.Tensor): tf.Tensor4D => tf.maxPool(a as tf.Tensor4D, size, stride, pad);
          // A different upstream gradient per output value, so a gradient sent to the wrong input shows.
          const pooled = pool(input);
          const dy = tf.reshape(tf.range(1, 1 + pooled.size), pooled.shape);
          const grad = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(pool(a), dy)))(input);
          return Float32Array.from([...pooled.dataSync(), ...grad.dataSync()]);
        });
        assert.equal(tf.memory().numTensors, before, `${backend}: tensors left behind`);
        return out;
      };
      try {
        const expected = await run('cpu');
        const actual = await run('tensorflow');
        const err = relativeError(actual, expected);
        assert.ok(err < TOLERANCE, describeFailure(`maxPool ${JSON.stringify([shape, size, stride, pad])}${ties ? ' with ties' : ''}`, err));
      } finally {
        await tf.setBackend('tensorflow');
      }
    }
  }
});
