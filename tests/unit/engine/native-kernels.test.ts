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

const skip = !NATIVE && 'the native engine is not built here (npm run engine:native)';
if (NATIVE) await initBackend('tensorflow');

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

test(`the backend runs the fused convolution as one native op where it can (here: ${NATIVE ? nativeFusion(tf.backend() as never) : 'not built'})`, { skip }, () => {
  // Every TensorFlow with oneDNN on x86 has at least _MklNativeConv2DWithBias; 'separate' would mean none of the fused ops ran.
  assert.notEqual(nativeFusion(native()), 'separate');
});

const FUSIONS: NativeFusion[] = ['mkl-fused', 'fused', 'mkl-bias', 'separate'];
const native = (): NativeBackend => tf.backend() as unknown as NativeBackend;

for (const fusion of FUSIONS) {
  const runs = NATIVE && fusionRuns(native(), fusion);
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
