// Training and inference on wasm leave no tensors behind: 500 tiny training steps and 100 inferences of a
// net that runs every kernel the project supplies for wasm (conv and depthwise backprop, transposed conv,
// max-pool and upsampling gradients) end with the tensor and backend buffer counts they started with.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { initBackend } from '../../../src/main/engine/backend';
import { buildReferenceCnn } from '../../../src/main/engine/models/reference';

await initBackend('wasm');

/** conv -> max-pool -> depthwise -> conv stride 2 -> transposed conv -> nearest upsampling -> conv (+ input). */
function everyKernelNet(): tfl.LayersModel {
  const input = tfl.input({ shape: [16, 16, 3] });
  let x = tfl.layers.conv2d({ filters: 8, kernelSize: 3, padding: 'same', activation: 'relu' }).apply(input) as tfl.SymbolicTensor;
  x = tfl.layers.maxPooling2d({ poolSize: 2 }).apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.depthwiseConv2d({ kernelSize: 3, padding: 'same' }).apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.conv2d({ filters: 8, kernelSize: 2, strides: 2, padding: 'valid' }).apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.conv2dTranspose({ filters: 8, kernelSize: 2, strides: 2, padding: 'same' }).apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.upSampling2d({ size: [2, 2] }).apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.conv2d({ filters: 3, kernelSize: 3, padding: 'same' }).apply(x) as tfl.SymbolicTensor;
  return tfl.model({ inputs: input, outputs: tfl.layers.add().apply([input, x]) as tfl.SymbolicTensor });
}

function counts(): { tensors: number; buffers: number } {
  return { tensors: tf.memory().numTensors, buffers: tf.engine().backend.numDataIds() };
}

for (const [name, build] of [
  ['reference CNN (3 layers)', () => buildReferenceCnn({ layers: 3, filters: 8 })],
  ['net using every project kernel', everyKernelNet],
] as const) {
  test(`500 training steps and 100 inferences leak nothing: ${name}`, async () => {
    await tf.setBackend('wasm');
    const model = build();
    const optimizer = tf.train.adam(1e-3);
    const x = tf.randomUniform([2, 16, 16, 3]);
    const y = tf.randomUniform([2, 16, 16, 3]);
    const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
    const step = (): number =>
      tf.tidy(() => {
        const { value, grads } = tf.variableGrads(() => tf.losses.meanSquaredError(y, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar, variables);
        optimizer.applyGradients(Object.entries(grads).map(([name, tensor]) => ({ name, tensor: tensor! })));
        return value.dataSync()[0]!;
      });
    // Adam creates its moment variables on the first step; count from after it.
    const first = step();
    const before = counts();
    let last = first;
    for (let i = 0; i < 499; i++) last = step();
    for (let i = 0; i < 100; i++) {
      const p = model.predict(x) as tf.Tensor;
      await p.data();
      p.dispose();
    }
    assert.deepEqual(counts(), before);
    assert.ok(Number.isFinite(last) && last < first, `loss went from ${first} to ${last}`);
    tf.dispose([x, y]);
    optimizer.dispose();
    model.dispose();
  });
}
