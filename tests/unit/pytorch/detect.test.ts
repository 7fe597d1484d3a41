// Architecture detection on layouts the fixtures do not cover: the original ESRGAN layout at 1x (no
// upsampling convs) and 8x, Real-ESRGAN with a third upsampling conv, and the variants refused with a
// sentence (grayscale, Compact without PReLU weights, a missing key).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { detectArchitecture, type StateDict } from '../../../src/main/engine/pytorch/index';
import { StudioError } from '#shared/rpc/errors';
import { useTestBackend } from '../../helpers/native';

await useTestBackend();

let seed = 7;
function random(n: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    out[i] = (seed / 2147483648 - 0.5) * 0.2;
  }
  return out;
}

function conv(state: StateDict, key: string, o: number, i: number, k = 3): void {
  state.set(`${key}.weight`, { dtype: 'F32', shape: [o, i, k, k], data: random(o * i * k * k) });
  state.set(`${key}.bias`, { dtype: 'F32', shape: [o], data: random(o) });
}

function rrdb(state: StateDict, dense: (r: number, c: number) => string, nf: number, gc: number): void {
  for (let r = 1; r <= 3; r++) for (let c = 1; c <= 5; c++) conv(state, dense(r, c), c === 5 ? nf : gc, nf + (c - 1) * gc);
}

/** The original ESRGAN repository's keys for `ups` upsampling convs. */
function oldLayout(ups: number, nf = 4, gc = 2, cin = 3): StateDict {
  const state: StateDict = new Map();
  conv(state, 'model.0', nf, cin);
  rrdb(state, (r, c) => `model.1.sub.0.RDB${r}.conv${c}.0`, nf, gc);
  conv(state, 'model.1.sub.1', nf, nf);
  for (let u = 0; u < ups; u++) conv(state, `model.${3 * (u + 1)}`, nf, nf);
  conv(state, `model.${3 * ups + 2}`, nf, nf);
  conv(state, `model.${3 * ups + 4}`, 3, nf);
  return state;
}

function outputShape(state: StateDict, h: number, w: number): number[] {
  const detected = detectArchitecture('t.pth', state);
  const { model } = detected.build();
  try {
    return tf.tidy(() => (model.predict(tf.zeros([1, h, w, 3])) as tf.Tensor).shape);
  } finally {
    model.dispose();
  }
}

test('the original ESRGAN layout at 1x (no upsampling) and 8x (three) are told apart by their top-level convs', () => {
  const one = detectArchitecture('1x.pth', oldLayout(0));
  assert.equal(one.architecture, 'esrgan');
  assert.equal(one.scale, 1);
  assert.deepEqual(outputShape(oldLayout(0), 6, 10), [1, 6, 10, 3]);
  assert.equal(detectArchitecture('8x.pth', oldLayout(3)).scale, 8);
  assert.deepEqual(outputShape(oldLayout(3), 2, 3), [1, 16, 24, 3]);
});

test('Real-ESRGAN with conv_up3 is 8x; with pixel-unshuffle input it divides by the unshuffle factor', () => {
  const state: StateDict = new Map();
  conv(state, 'conv_first', 4, 12);
  rrdb(state, (r, c) => `body.0.rdb${r}.conv${c}`, 4, 2);
  for (const k of ['conv_body', 'conv_up1', 'conv_up2', 'conv_up3', 'conv_hr']) conv(state, k, 4, 4);
  conv(state, 'conv_last', 3, 4);
  const detected = detectArchitecture('x4-unshuffle.pth', state);
  assert.equal(detected.scale, 4);
  assert.equal(detected.requiredMultiple, 2);
  assert.deepEqual(outputShape(state, 4, 6), [1, 16, 24, 3]);
});

function refused(state: StateDict, pattern: RegExp): void {
  assert.throws(
    () => detectArchitecture('m.pth', state).build().model.dispose(), // some keys are looked up only while building
    (e: unknown) => e instanceof StudioError && e.code === 'MODEL_INVALID' && pattern.test(e.message),
  );
}

test('grayscale ESRGAN, Compact without PReLU and a missing key are refused with sentences', () => {
  refused(oldLayout(2, 4, 2, 1), /^m\.pth: is an ESRGAN model with 1 input and 3 output channels; the studio restores RGB photos/);
  const compact: StateDict = new Map();
  conv(compact, 'body.0', 4, 3);
  compact.set('body.1.weight', { dtype: 'F32', shape: [4], data: random(4) });
  conv(compact, 'body.2', 4, 4);
  conv(compact, 'body.4', 3, 4);
  refused(compact, /^m\.pth: is a Real-ESRGAN Compact model without PReLU weights at body\.3/);
  // A missing conv of an otherwise ESRGAN file names the key.
  const broken = oldLayout(2);
  broken.delete('model.1.sub.0.RDB2.conv3.0.weight');
  const before = tf.memory().numTensors;
  refused(broken, /^m\.pth: looks like ESRGAN but has no "model\.1\.sub\.0\.RDB2\.conv3\.0\.weight"/);
  assert.equal(tf.memory().numTensors, before, 'a build abandoned half-way frees the layers it made');
});

test('PReLU with slopes all below 1, all above 1, or mixed gives PReLU\'s output', async () => {
  const { GraphBuilder, Weights } = await import('../../../src/main/engine/pytorch/convert');
  const x = tf.tensor4d(random(2 * 3 * 4 * 3).map((v) => v * 20), [2, 3, 4, 3]);
  for (const slopes of [[0.25, -0.5, 1], [1, 2.5, 1.5], [0.1, 3, -2]]) {
    const state: StateDict = new Map([['p.weight', { dtype: 'F32', shape: [3], data: new Float32Array(slopes) }]]);
    const g = new GraphBuilder(new Weights('p.pth', state, 'test'));
    const model = g.make('prelu', (input) => g.prelu(input, 'p', 'act'));
    try {
      const classes = model.layers.map((l) => l.getClassName());
      const got = tf.tidy(() => (model.predict(x) as tf.Tensor).arraySync()) as number[][][][];
      const want = tf.tidy(() => tf.prelu(x, tf.tensor4d(slopes, [1, 1, 1, 3])).arraySync()) as number[][][][];
      assert.deepEqual(got.flat(3).map((v) => Math.round(v * 1e5)), want.flat(3).map((v) => Math.round(v * 1e5)), `${slopes} (${classes.join(', ')})`);
      assert.ok(slopes.some((a) => a < 1) && slopes.some((a) => a > 1) ? classes.includes('PReLU') : !classes.includes('PReLU'), classes.join(', '));
    } finally {
      model.dispose();
    }
  }
  x.dispose();
});
