import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import '@tensorflow/tfjs-backend-cpu';
import { getArchitecture } from '../../../src/main/engine/models';
import { summarizeModel } from '../../../src/main/engine/models/summary';
import { useTestBackend } from '../../helpers/native';

before(async () => {
  await useTestBackend();
});

test('the layer summary lists every layer with its shape, parameters and inbound layers', () => {
  const esrcnn = getArchitecture('esrcnn').build({}, { channels: 3 });
  const layers = summarizeModel(esrcnn);
  assert.equal(layers.reduce((sum, l) => sum + l.params, 0), 89_795, 'parameters add up to the published count');
  const average = layers.find((l) => l.className === 'Average');
  assert.ok(average, 'the averaged branches are there');
  assert.equal(average.inputs.length, 3, 'three branches feed the average');
  assert.equal(layers.at(-1)!.outputShape.at(-1), 3, 'RGB out');
  esrcnn.dispose();
});
