// PyTorch files rebuilt in TensorFlow.js give PyTorch's output: every fixture of tests/fixtures/pytorch
// (made once with PyTorch CPU by make-fixtures.py: ESRGAN in the Real-ESRGAN, BSRGAN and original layouts at
// 1x/2x/4x with pixel-unshuffle, Real-ESRGAN Compact at 1x/2x/4x, SPAN at 2x/4x; zip, legacy and safetensors; fp32, fp16,
// bf16; wrapped and prefixed keys) is read, detected, built, and run on the same input PyTorch was.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { join } from 'node:path';
import { detectArchitecture, readWeightsFile } from '../../../src/main/engine/pytorch/index';
import { useTestBackend } from '../../helpers/native';
import { FIXTURES, fixtureInput, fixtureOutput, manifest } from './fixtures';

await useTestBackend();

// The target is 1/255 (one 8-bit level); the rebuild is exact up to float rounding, so hold it to far less.
const TOLERANCE = 1e-4;

for (const entry of manifest.models) {
  test(`${entry.file}: ${entry.architecture} ${entry.scale}x matches PyTorch (max error <= 1e-4)`, async () => {
    const weights = await readWeightsFile(join(FIXTURES, entry.file));
    const detected = detectArchitecture(entry.file, weights.state);
    assert.equal(detected.architecture, entry.architecture);
    assert.equal(detected.scale, entry.scale);
    const { model } = detected.build();
    const input = await fixtureInput();
    const expected = await fixtureOutput(entry);
    try {
      const got = tf.tidy(() => model.predict(input) as tf.Tensor4D);
      assert.deepEqual(got.shape, expected.shape);
      const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(got, expected))).dataSync()[0]!);
      const range = tf.tidy(() => tf.max(tf.abs(expected)).dataSync()[0]!);
      got.dispose();
      assert.ok(diff <= TOLERANCE, `largest difference ${diff} (outputs up to ${range})`);
    } finally {
      model.dispose();
      tf.dispose([input, expected]);
    }
  });
}
