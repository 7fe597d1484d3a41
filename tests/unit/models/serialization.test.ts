import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import '@tensorflow/tfjs-backend-cpu';
import { mkdtemp, mkdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ARCHITECTURE_IDS, ARCHITECTURES, inputChannelsFor } from '../../../src/main/engine/models/index';
import { fileIOHandler, loadModelFiles, saveModelFiles } from '../../../src/main/engine/package/model-io';
import { useTestBackend } from '../../helpers/native';

await useTestBackend();

/** Replaces every weight with random values, so zero-initialised scales (NAFNet) and biases matter. */
function randomiseWeights(model: tfl.LayersModel): void {
  const values = model.weights.map((w) =>
    /variance/.test(w.name) ? tf.randomUniform(w.shape as number[], 0.5, 1.5) : tf.randomNormal(w.shape as number[], 0, 0.1),
  );
  model.setWeights(values);
  tf.dispose(values);
}

const SMALL: Record<string, Record<string, number | string | boolean>> = {
  classifier: { inputSize: 32, padding: 'same', filters: 4, denseUnits: 8 },
  ffdnet: { noiseInput: 'fixed', noiseSigma: 20, depth: 4 },
  dncnn: { batchNorm: true, depth: 4 },
};

test('save then load gives identical outputs for every architecture (custom layers included)', async () => {
  const root = await mkdtemp(join(tmpdir(), 'studio-ser-'));
  const before = tf.memory().numTensors;
  try {
    for (const id of ARCHITECTURE_IDS) {
      const arch = ARCHITECTURES[id];
      const model = arch.build(SMALL[id] ?? {});
      randomiseWeights(model);
      const dir = join(root, id);
      await mkdir(dir);
      await saveModelFiles(model, dir);
      const json = JSON.parse(await readFile(join(dir, 'model.json'), 'utf8')) as { format: string; weightsManifest: { paths: string[] }[] };
      assert.equal(json.format, 'layers-model');
      assert.deepEqual(json.weightsManifest[0]!.paths, ['weights.bin']);
      // Load both through our helper and through tfjs' own loader with our IOHandler.
      const loaded = await loadModelFiles(dir);
      const viaHandler = await tfl.loadLayersModel(fileIOHandler(dir));
      try {
        assert.equal(loaded.countParams(), model.countParams(), id);
        assert.deepEqual(
          loaded.layers.map((l) => l.getClassName()),
          model.layers.map((l) => l.getClassName()),
          id,
        );
        const shape = arch.task === 'classify' ? [2, 32, 32, 3] : [1, 11, 13, inputChannelsFor(arch.task)];
        const x = tf.randomUniform(shape);
        const outs = [model, loaded, viaHandler].map((m) => m.predict(x) as tf.Tensor);
        const a = outs[0]!.dataSync();
        assert.ok(a.every((v) => Number.isFinite(v)), `${id} outputs are finite`);
        for (const other of outs.slice(1)) {
          const b = other.dataSync();
          assert.equal(b.length, a.length);
          for (let i = 0; i < a.length; i++) assert.equal(b[i], a[i], `${id} output ${i}`);
        }
        tf.dispose([x, ...outs]);
      } finally {
        model.dispose();
        loaded.dispose();
        viaHandler.dispose();
      }
    }
    assert.equal(tf.memory().numTensors, before);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test('custom layers serialise their config (NoiseLevelMap sigma, PixelShuffle block size)', async () => {
  const root = await mkdtemp(join(tmpdir(), 'studio-ser-'));
  try {
    const model = ARCHITECTURES.ffdnet.build({ noiseInput: 'fixed', noiseSigma: 33, depth: 3, filters: 8 });
    await saveModelFiles(model, root);
    model.dispose();
    const text = await readFile(join(root, 'model.json'), 'utf8');
    assert.match(text, /"class_name":"NoiseLevelMap"/);
    assert.match(text, /"sigma":33/);
    assert.match(text, /"block_size":2/);
    const loaded = await loadModelFiles(root);
    const layer = loaded.layers.find((l) => l.getClassName() === 'NoiseLevelMap') as unknown as { sigma: number };
    assert.equal(layer.sigma, 33);
    loaded.dispose();
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
