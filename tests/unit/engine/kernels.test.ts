// Every kernel the project registers (src/main/engine/kernels) against a reference on fresh random inputs
// of several shapes, strides, paddings and dilations: relative error < 1e-4.
// The reference is cpu's kernel, except where cpu's own is wrong (resize gradients: the exact adjoint of
// cpu's forward resize) or lacks a feature (depthwise dilations: cpu's kernel on the zero-stuffed filter,
// which is what a dilated filter is).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../../src/main/engine/backend';
import { PROJECT_KERNEL_IDS } from '../../../src/main/engine/kernels/index';
import { adjointOnCpu } from '../../../src/main/engine/kernels/probe';
import { describeFailure, random, relativeError, runKernelOn, TOLERANCE, type Inputs } from './helpers';

await initBackend('wasm');

type Pad = 'same' | 'valid' | number | [[number, number], [number, number], [number, number], [number, number]];
const explicit: Pad = [[0, 0], [1, 2], [0, 3], [0, 0]];

async function expectMatch(what: string, name: string, inputs: Inputs, attrs: object, backend = 'wasm'): Promise<void> {
  const expected = await runKernelOn('cpu', name, inputs, attrs);
  const actual = await runKernelOn(backend, name, inputs, attrs);
  assert.deepEqual(actual.shape, expected.shape, `${what}: shape`);
  const err = relativeError(actual.values, expected.values);
  assert.ok(err < TOLERANCE, describeFailure(what, err));
}

// [batch, height, width, in channels, out channels, kernel h, kernel w, strides, pad, rounding]
type ConvCase = [number, number, number, number, number, number, number, number | [number, number], Pad, ('floor' | 'ceil' | 'round')?];
const CONV_CASES: ConvCase[] = [
  [2, 8, 8, 3, 4, 3, 3, 1, 'same'],
  [2, 9, 7, 3, 4, 3, 3, 2, 'same'],
  [2, 9, 7, 4, 3, 3, 3, 2, 'valid'],
  [2, 8, 8, 3, 5, 2, 2, 2, 'same'],
  [2, 10, 10, 3, 4, 5, 5, 3, 1],
  [2, 7, 9, 3, 4, 4, 4, 2, explicit],
  [2, 6, 6, 3, 4, 1, 1, 1, 'valid'],
  [2, 11, 5, 3, 4, 3, 3, [2, 1], 'same'],
  [3, 5, 6, 2, 3, 3, 2, [1, 2], 'valid'],
  [1, 16, 16, 8, 8, 3, 3, 1, 'same'],
  [2, 9, 9, 2, 3, 3, 3, 2, 1, 'ceil'],
];

function convGeometry([n, h, w, ci, co, kh, kw, strides, pad, rounding]: ConvCase) {
  const info = tf.backend_util.computeConv2DInfo([n, h, w, ci], [kh, kw, ci, co], strides, 1, pad, rounding);
  return { info, xShape: [n, h, w, ci], dyShape: [n, info.outHeight, info.outWidth, co], filterShape: [kh, kw, ci, co] as [number, number, number, number] };
}

const label = (c: ConvCase) => JSON.stringify(c);

test('the project registers the kernels these tests cover', () => {
  for (const id of [
    'wasm/Conv2DBackpropFilter',
    'wasm/Conv2DBackpropInput',
    'wasm/DepthwiseConv2dNativeBackpropFilter',
    'wasm/DepthwiseConv2dNativeBackpropInput',
    'wasm/MaxPoolGrad',
    'wasm/ResizeNearestNeighborGrad',
    'wasm/ResizeBilinearGrad',
    'cpu/ResizeNearestNeighborGrad',
    'cpu/ResizeBilinearGrad',
    'wasm/Slice',
    'wasm/SplitV',
    'wasm/Tile',
  ]) {
    assert.ok(PROJECT_KERNEL_IDS.includes(id), id);
  }
  assert.equal(PROJECT_KERNEL_IDS.length, 12, 'a new project kernel needs tests here');
});

test('Conv2DBackpropFilter (wasm) 1x1 fast path matches cpu', async () => {
  for (const [n, h, w, ci, co] of [[2, 7, 9, 3, 8], [2, 6, 5, 8, 3], [1, 16, 16, 16, 16]] as const) {
    const attrs = { strides: 1, pad: 'same', dataFormat: 'NHWC', filterShape: [1, 1, ci, co] };
    await expectMatch(`1x1 ${ci}->${co}`, 'Conv2DBackpropFilter', { x: random([n, h, w, ci]), dy: random([n, h, w, co]) }, attrs);
  }
});

test('Conv2DBackpropFilter (wasm) matches cpu', async () => {
  for (const c of CONV_CASES) {
    const { xShape, dyShape, filterShape } = convGeometry(c);
    const attrs = { strides: c[7], pad: c[8], dimRoundingMode: c[9], dataFormat: 'NHWC', filterShape };
    await expectMatch(label(c), 'Conv2DBackpropFilter', { x: random(xShape), dy: random(dyShape) }, attrs);
  }
});

test('Conv2DBackpropInput (wasm) matches cpu', async () => {
  for (const c of CONV_CASES) {
    const { xShape, dyShape, filterShape } = convGeometry(c);
    const attrs = { strides: c[7], pad: c[8], dimRoundingMode: c[9], dataFormat: 'NHWC', inputShape: xShape };
    await expectMatch(label(c), 'Conv2DBackpropInput', { dy: random(dyShape), filter: random(filterShape) }, attrs);
  }
});

test('conv backprop kernels accept NCHW', async () => {
  for (const c of [CONV_CASES[1]!, CONV_CASES[5]!]) {
    const { xShape, dyShape, filterShape } = convGeometry(c);
    const nchw = ([n, h, w, ch]: number[]) => [n!, ch!, h!, w!];
    // Explicit padding is given in the data format's axis order.
    const pad = Array.isArray(c[8]) ? [c[8][0], c[8][3], c[8][1], c[8][2]] : c[8];
    const base = { strides: c[7], pad, dataFormat: 'NCHW' };
    await expectMatch(`${label(c)} NCHW filter`, 'Conv2DBackpropFilter', { x: random(nchw(xShape)), dy: random(nchw(dyShape)) }, { ...base, filterShape });
    await expectMatch(`${label(c)} NCHW input`, 'Conv2DBackpropInput', { dy: random(nchw(dyShape)), filter: random(filterShape) }, { ...base, inputShape: nchw(xShape) });
  }
});

// [batch, height, width, channels, multiplier, kernel, strides, dilation, pad]
type DepthwiseCase = [number, number, number, number, number, number, number, number, Pad];
const DEPTHWISE_CASES: DepthwiseCase[] = [
  [2, 8, 8, 3, 1, 3, 1, 1, 'same'],
  [2, 9, 7, 3, 2, 3, 2, 1, 'same'],
  [2, 9, 7, 4, 1, 3, 2, 1, 'valid'],
  [2, 8, 8, 3, 1, 2, 2, 1, 'same'],
  [2, 10, 10, 2, 3, 5, 3, 1, 1],
  [2, 7, 9, 3, 1, 4, 2, 1, explicit],
  [2, 9, 8, 3, 1, 3, 1, 2, 'same'],
  [2, 11, 10, 2, 2, 3, 1, 3, 'valid'],
  [1, 12, 12, 4, 1, 5, 1, 2, 'same'],
];

/** A dilated filter is the undilated one with d-1 zeros between taps. */
function stuff(values: Float32Array, [kh, kw, c, m]: number[], d: number): { values: Float32Array; shape: number[] } {
  const eh = (kh! - 1) * d + 1;
  const ew = (kw! - 1) * d + 1;
  const out = new Float32Array(eh * ew * c! * m!);
  for (let u = 0; u < kh!; u++) {
    for (let v = 0; v < kw!; v++) {
      for (let i = 0; i < c! * m!; i++) out[((u * d) * ew + v * d) * c! * m! + i] = values[(u * kw! + v) * c! * m! + i]!;
    }
  }
  return { values: out, shape: [eh, ew, c!, m!] };
}

test('DepthwiseConv2dNativeBackpropInput (wasm) matches cpu, dilations included', async () => {
  for (const c of DEPTHWISE_CASES) {
    const [n, h, w, ch, m, k, s, d, pad] = c;
    const info = tf.backend_util.computeConv2DInfo([n, h, w, ch], [k, k, ch, m], s, d, pad, undefined, true);
    const dy = random([n, info.outHeight, info.outWidth, ch * m]);
    const filter = random([k, k, ch, m]);
    const attrs = { strides: s, dilations: d, pad, inputShape: [n, h, w, ch] };
    const expected = await runKernelOn('cpu', 'DepthwiseConv2dNativeBackpropInput', { dy, filter: stuff(filter.values, filter.shape, d) }, { ...attrs, dilations: 1 });
    const actual = await runKernelOn('wasm', 'DepthwiseConv2dNativeBackpropInput', { dy, filter }, attrs);
    assert.deepEqual(actual.shape, expected.shape);
    const err = relativeError(actual.values, expected.values);
    assert.ok(err < TOLERANCE, describeFailure(label(c as never), err));
  }
});

test('DepthwiseConv2dNativeBackpropFilter (wasm) matches cpu, dilations included', async () => {
  for (const c of DEPTHWISE_CASES) {
    const [n, h, w, ch, m, k, s, d, pad] = c;
    const info = tf.backend_util.computeConv2DInfo([n, h, w, ch], [k, k, ch, m], s, d, pad, undefined, true);
    const x = random([n, h, w, ch]);
    const dy = random([n, info.outHeight, info.outWidth, ch * m]);
    const eff = (k - 1) * d + 1;
    const expectedStuffed = await runKernelOn('cpu', 'DepthwiseConv2dNativeBackpropFilter', { x, dy }, { strides: s, dilations: 1, pad, filterShape: [eff, eff, ch, m] });
    // The dilated filter's gradient is the stuffed filter's gradient at the taps that exist.
    const expected = new Float32Array(k * k * ch * m);
    for (let u = 0; u < k; u++) {
      for (let v = 0; v < k; v++) {
        for (let i = 0; i < ch * m; i++) expected[(u * k + v) * ch * m + i] = expectedStuffed.values[((u * d) * eff + v * d) * ch * m + i]!;
      }
    }
    const actual = await runKernelOn('wasm', 'DepthwiseConv2dNativeBackpropFilter', { x, dy }, { strides: s, dilations: d, pad, filterShape: [k, k, ch, m] });
    assert.deepEqual(actual.shape, [k, k, ch, m]);
    const err = relativeError(actual.values, expected);
    assert.ok(err < TOLERANCE, describeFailure(label(c as never), err));
  }
});

test('MaxPoolGrad (wasm) matches cpu: first maximum, negative windows, ties, padding', async () => {
  // [shape, filter, strides, pad, values]
  const cases: [number[], number | [number, number], number | [number, number], Pad, 'uniform' | 'negative' | 'ties'][] = [
    [[2, 8, 6, 3], 2, 2, 'valid', 'uniform'],
    [[2, 8, 6, 3], 2, 2, 'valid', 'negative'],
    [[2, 8, 6, 3], 2, 2, 'valid', 'ties'],
    [[2, 9, 7, 3], 2, 2, 'valid', 'uniform'],
    [[2, 9, 7, 3], 2, 2, 'same', 'ties'],
    [[2, 7, 9, 2], 3, 1, 'same', 'uniform'],
    [[2, 9, 7, 2], 3, 2, 'same', 'negative'],
    [[2, 6, 9, 2], [2, 3], [2, 3], 'valid', 'ties'],
    [[1, 8, 8, 4], 3, 2, 1, 'uniform'],
  ];
  for (const [shape, filterSize, strides, pad, kind] of cases) {
    const x = random(shape, kind === 'negative' ? [-3, -1] : [-1, 1]);
    // Few distinct values give plenty of ties.
    if (kind === 'ties') x.values.forEach((v, i) => (x.values[i] = Math.round(v * 2) / 2));
    await tf.setBackend('cpu');
    const y = tf.tidy(() => tf.maxPool(tf.tensor4d(x.values, shape as [number, number, number, number]), filterSize, strides, pad as 'same'));
    const output = { shape: y.shape, values: y.dataSync() as Float32Array };
    y.dispose();
    const attrs = { filterSize, strides, pad };
    await expectMatch(`${JSON.stringify([shape, filterSize, strides, pad, kind])}`, 'MaxPoolGrad', { dy: random(output.shape), input: x, output }, attrs);
  }
});

test('Slice, SplitV and Tile (wasm heap copies) match cpu for float32, int32 and bool', async () => {
  const cases: { shape: number[]; begin: number[]; size: number[]; reps: number[]; splits: number[]; axis: number }[] = [
    { shape: [2, 5, 6, 4], begin: [0, 1, 2, 0], size: [2, 3, 3, 4], reps: [1, 3, 1, 2], splits: [1, 3], axis: 3 },
    { shape: [3, 4, 5], begin: [1, 0, 1], size: [2, 4, 3], reps: [2, 1, 3], splits: [2, 2], axis: 1 },
    { shape: [2, 1, 1, 3], begin: [1, 0, 0, 1], size: [1, 1, 1, 2], reps: [1, 4, 5, 1], splits: [1, 1], axis: 0 },
    { shape: [7], begin: [2], size: [4], reps: [3], splits: [3, 4], axis: 0 },
    { shape: [2, 3, 4, 5, 2], begin: [0, 1, 0, 2, 1], size: [2, 2, 4, 2, 1], reps: [1, 2, 1, 1, 3], splits: [2, 1, 2], axis: 3 },
    { shape: [4, 6], begin: [0, 0], size: [4, 6], reps: [1, 1], splits: [3, 3], axis: 1 },
  ];
  for (const c of cases) {
    for (const dtype of ['float32', 'int32', 'bool'] as const) {
      const data = random(c.shape, [-5, 5]);
      const results: number[][] = [];
      for (const backend of ['cpu', 'wasm']) {
        await tf.setBackend(backend);
        // (wasm's cast to bool keeps the raw integer, so bools come from a comparison)
        const x = tf.tidy(() => {
          const t = tf.tensor(data.values, c.shape);
          return dtype === 'bool' ? tf.greater(t, 0) : tf.cast(t, dtype);
        });
        const outs = [
          tf.slice(x, c.begin, c.size),
          tf.tile(x, c.reps),
          ...tf.split(x, c.splits, c.axis),
        ];
        results.push(outs.flatMap((o) => [...o.shape, ...Array.from(o.dataSync())]));
        tf.dispose([x, ...outs]);
      }
      assert.deepEqual(results[1], results[0], `${dtype} ${JSON.stringify(c)}`);
    }
  }
});

// Resize gradients replace both backends' kernels (cpu's are wrong at batch > 1 and for non-square bilinear;
// wasm's ignore halfPixelCenters), so the reference is the exact adjoint of cpu's forward resize.
test('resize gradients (wasm and cpu) equal the adjoint of the forward resize', async () => {
  const cases: [number[], [number, number], boolean, boolean][] = [
    [[2, 5, 4, 3], [10, 8], false, false],
    [[3, 4, 5, 2], [12, 10], false, false],
    [[2, 5, 4, 2], [7, 9], false, false],
    [[2, 7, 6, 2], [4, 5], true, false],
    [[2, 5, 4, 2], [8, 9], false, true],
    [[2, 4, 4, 2], [8, 8], false, true],
  ];
  for (const [shape, size, alignCorners, halfPixelCenters] of cases) {
    for (const [kernel, op] of [
      ['ResizeNearestNeighborGrad', tf.image.resizeNearestNeighbor],
      ['ResizeBilinearGrad', tf.image.resizeBilinear],
    ] as const) {
      const dy = random([shape[0]!, size[0], size[1], shape[3]!]);
      const expected = await adjointOnCpu((x) => op(x as tf.Tensor4D, size, alignCorners, halfPixelCenters), shape, dy.values);
      const images = { shape, values: new Float32Array(expected.length) };
      for (const backend of ['wasm', 'cpu']) {
        const actual = await runKernelOn(backend, kernel, { images, dy }, { size, alignCorners, halfPixelCenters });
        assert.deepEqual(actual.shape, shape);
        const err = relativeError(actual.values, expected);
        assert.ok(err < TOLERANCE, describeFailure(`${backend} ${kernel} ${JSON.stringify([shape, size, alignCorners, halfPixelCenters])}`, err));
      }
    }
  }
});
