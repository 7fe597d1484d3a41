// Best quality (self-ensemble): the model's 8 orientations, each turned back, averaged. An average over all
// rotations and mirrors is itself unchanged by them; a model that is already symmetric gives its own output;
// no tensor is left behind; a fixed-size model is refused (and released).
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { ENSEMBLE_PASSES, selfEnsemble } from '../../../src/main/engine/infer/ensemble';
import { wrapLayersModel, type RestoreModel } from '../../../src/main/engine/infer/model';
import { identityModel, mulberry32, residualModel } from '../restore/helpers';
import { useTestBackend } from '../../helpers/native';

before(useTestBackend);

function randomImage(h: number, w: number, seed: number): tf.Tensor4D {
  const rand = mulberry32(seed);
  return tf.tensor4d(Float32Array.from({ length: h * w * 3 }, () => rand()), [1, h, w, 3]);
}

function maxDifference(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!);
}

const wrap = (model: ReturnType<typeof residualModel>, id: string): RestoreModel => wrapLayersModel(model, { id, name: id, fingerprint: id });

test('the ensemble of an asymmetric model differs from it and commutes with rotations and mirrors', () => {
  const ensemble = selfEnsemble(wrap(residualModel(3), 'residual'));
  const plain = wrap(residualModel(3), 'residual-plain');
  const x = randomImage(12, 20, 1);
  const tensors = tf.memory().numTensors;
  const y = ensemble.run(x);
  const single = plain.run(x);
  assert.ok(maxDifference(y, single) > 1e-3, 'the eight orientations are not all the same for this model');
  // Rotating the input rotates the output, and so does mirroring (the ensemble is an average over all of them).
  const rotated = tf.tidy(() => tf.reverse(tf.transpose(x, [0, 2, 1, 3]), 1));
  const yRotated = ensemble.run(rotated);
  const rotatedY = tf.tidy(() => tf.reverse(tf.transpose(y, [0, 2, 1, 3]), 1));
  assert.ok(maxDifference(yRotated, rotatedY) < 1e-5, `rotation: ${maxDifference(yRotated, rotatedY)}`);
  const mirrored = tf.reverse(x, 2);
  const yMirrored = ensemble.run(mirrored);
  const mirroredY = tf.reverse(y, 2);
  assert.ok(maxDifference(yMirrored, mirroredY) < 1e-5, `mirror: ${maxDifference(yMirrored, mirroredY)}`);
  assert.deepEqual(y.shape, x.shape);
  tf.dispose([y, single, rotated, yRotated, rotatedY, mirrored, yMirrored, mirroredY]);
  assert.equal(tf.memory().numTensors, tensors, 'no tensor is left behind');
  x.dispose();
  ensemble.dispose();
  plain.dispose();
});

test('a symmetric model gives its own output; the ensemble is named and costs eight passes', () => {
  const model = wrap(identityModel(), 'identity');
  const macs = 1000;
  const ensemble = selfEnsemble({ ...model, macsPerPixel: macs });
  const x = randomImage(9, 14, 2);
  const y = ensemble.run(x);
  assert.ok(maxDifference(y, x) < 1e-6);
  assert.match(ensemble.name, /best quality/);
  assert.notEqual(ensemble.fingerprint, model.fingerprint, 'a batch made without it is redone');
  assert.equal(ensemble.macsPerPixel, macs * ENSEMBLE_PASSES);
  tf.dispose([x, y]);
  ensemble.dispose();
});

test('a fixed-size model is refused with a sentence and released', () => {
  let disposed = false;
  const fixed: RestoreModel = { ...wrap(identityModel(), 'fixed'), name: 'Fixed', fixedSize: [64, 64], dispose: () => (disposed = true) };
  assert.throws(() => selfEnsemble(fixed), /only takes 64x64 inputs/);
  assert.ok(disposed);
});
