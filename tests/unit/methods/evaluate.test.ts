// Evaluation through the engine contract (evaluate.run): numbers of an identity model equal metrics computed
// here from the files; a known degradation gives its known input PSNR; synthesised degradations are seeded;
// models that pad internally run on odd sizes in tiles.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import * as tf from '@tensorflow/tfjs-core';
import { EngineHost, inProcessLauncher } from '../../../src/main/services/engine-host';
import { savePackage } from '../../../src/main/engine/package/index';
import { getArchitecture } from '../../../src/main/engine/models/index';
import { ssim } from '../../../src/main/engine/metrics/index';
import type { EvaluateEvent, EvaluateParamsInput, EvaluateResult } from '#shared/evaluation';
import { StudioError } from '#shared/rpc/errors';
import { cleanFolder, identityModel, offsetPairs, psnr8, tempDir } from './fixtures';
import { TEST_BACKEND } from '../../helpers/native';

const { dir: home, cleanup } = await tempDir('studio-eval-job-');
process.env.STUDIO_HOME = home;
process.env.STUDIO_BACKEND = TEST_BACKEND;
const engine = new EngineHost(await inProcessLauncher());
await engine.call('engine.info', {}); // selects the backend before models are built here
const modelsDir = join(home, 'models');
{
  const model = identityModel();
  await savePackage(modelsDir, model, { name: 'Identity', id: 'identity', architecture: { id: 'external' } });
  model.dispose();
  const ae = getArchitecture('autoencoder').build({ filters: 4, depth: 2 });
  await savePackage(modelsDir, ae, { name: 'AE', id: 'ae', architecture: { id: 'autoencoder', hyper: { filters: 4, depth: 2 } } });
  ae.dispose();
}

test.after(async () => {
  engine.dispose();
  await cleanup();
});

function evaluate(params: EvaluateParamsInput): Promise<{ result: EvaluateResult; events: EvaluateEvent[] }> {
  const events: EvaluateEvent[] = [];
  return new Promise((resolve, reject) => {
    engine.subscribe('evaluate.run', params, {
      data: (e) => events.push(e),
      end: (error) => {
        const done = events.find((e) => e.type === 'done');
        if (error) reject(error);
        else if (done?.type === 'done') resolve({ result: done.result, events });
        else reject(new Error('no done event'));
      },
    });
  });
}

test('an identity model scores like its input; the numbers equal metrics computed independently', async () => {
  const data = join(home, 'offset');
  const pairs = await offsetPairs(data, 3, 10, [[36, 28], [23, 31], [40, 40]]);
  const { result, events } = await evaluate({ model: 'identity', data, modelsDir });
  assert.equal(result.datasetKind, 'paired');
  assert.equal(result.images.length, 3);
  assert.deepEqual(events.map((e) => e.type), ['start', 'image', 'image', 'image', 'done']);
  const expectedPsnr = 10 * Math.log10((255 * 255) / 100); // every value off by 10 → MSE 100
  for (const pair of pairs) {
    const row = result.images.find((i) => i.file === pair.name)!;
    assert.ok(row, pair.name);
    assert.ok(Math.abs(row.inputPsnr - expectedPsnr) < 1e-9, `${row.inputPsnr} vs ${expectedPsnr}`);
    assert.ok(Math.abs(row.inputPsnr - psnr8(pair.degraded, pair.clean)) < 1e-9);
    assert.equal(row.psnr, row.inputPsnr);
    assert.equal(row.ssim, row.inputSsim);
    // SSIM from the PNG files decoded here (sharp), not through the job's loader.
    const decode = async (side: string): Promise<Float32Array> => {
      const raw = await sharp(join(data, side, pair.name)).removeAlpha().raw().toBuffer();
      return Float32Array.from(raw, (v) => v / 255);
    };
    const expectedSsim = ssim(await decode('degraded'), await decode('clean'), { height: pair.height, width: pair.width, channels: 3 });
    assert.ok(Math.abs(row.inputSsim - expectedSsim) < 1e-12);
    assert.ok(row.inputSsim > 0.9 && row.inputSsim < 1);
  }
  const mean = (k: 'psnr' | 'ssim' | 'inputPsnr' | 'inputSsim'): number => result.images.reduce((a, i) => a + i[k], 0) / result.images.length;
  assert.ok(Math.abs(result.psnr - mean('psnr')) < 1e-9 && Math.abs(result.inputSsim - mean('inputSsim')) < 1e-12);
  assert.deepEqual(result.skipped, []);
  assert.equal(result.model.id, 'identity');
});

test('clean images + a synthesis preset: Gaussian sigma 25 input PSNR is ~20 dB and seeded', async () => {
  const data = join(home, 'clean');
  await mkdir(data, { recursive: true });
  await cleanFolder(data, 2, 48, 9);
  const a = await evaluate({ model: join(modelsDir, 'identity'), data, synth: 'gaussian:25', seed: 3 });
  assert.equal(a.result.datasetKind, 'clean');
  assert.equal(a.result.synth, 'gaussian:25');
  for (const row of a.result.images) {
    // 20·log10(255/25) = 20.17 dB; clipping to [0, 255] before quantising removes a little error
    assert.ok(row.inputPsnr > 19.9 && row.inputPsnr < 21.5, `input PSNR ${row.inputPsnr}`);
    assert.equal(row.psnr, row.inputPsnr);
  }
  const again = await evaluate({ model: 'identity', data, synth: 'gaussian:25', seed: 3, modelsDir });
  assert.deepEqual(again.result.images.map((i) => i.inputPsnr), a.result.images.map((i) => i.inputPsnr));
  const other = await evaluate({ model: 'identity', data, synth: 'gaussian:25', seed: 4, modelsDir });
  assert.notDeepEqual(other.result.images.map((i) => i.inputPsnr), a.result.images.map((i) => i.inputPsnr));
});

test('a model that pads internally runs on odd sizes, in tiles when asked, with bounded tensors', async () => {
  const data = join(home, 'odd');
  await offsetPairs(data, 1, 4, [[45, 37]]);
  const before = tf.memory().numTensors;
  const whole = await evaluate({ model: 'ae', data, modelsDir });
  const tiled = await evaluate({ model: 'ae', data, modelsDir, tile: 32 });
  const start = tiled.events.find((e) => e.type === 'start');
  assert.equal(start?.type === 'start' && start.tile, 32);
  for (const r of [whole.result, tiled.result]) {
    assert.ok(Number.isFinite(r.psnr) && r.psnr > 0 && r.ssim > -1 && r.ssim <= 1);
    assert.equal(r.images[0]!.width, 45);
    assert.equal(r.images[0]!.height, 37);
  }
  assert.equal(tf.memory().numTensors, before, 'evaluation leaves no tensors behind');
});

test('evaluation errors are clear: unknown model, clean folder without a preset, mismatched pairs skipped', async () => {
  const data = join(home, 'offset');
  await assert.rejects(evaluate({ model: 'nope', data, modelsDir }), (e: unknown) => e instanceof StudioError && e.code === 'MODEL_NOT_FOUND' && /nope/.test(e.message));
  await assert.rejects(evaluate({ model: 'identity', data: join(home, 'clean'), modelsDir }), (e: unknown) => e instanceof StudioError && e.code === 'BAD_INPUT' && /preset/.test(e.message));
  const mixed = join(home, 'mixed');
  await offsetPairs(mixed, 1, 3, [[20, 20]]);
  const { writePng, smoothImage } = await import('./fixtures');
  await writePng(join(mixed, 'clean', 'q.png'), smoothImage(20, 20, 1), 20, 20);
  await writePng(join(mixed, 'degraded', 'q.png'), smoothImage(22, 20, 1), 22, 20);
  const { result } = await evaluate({ model: 'identity', data: mixed, modelsDir });
  assert.equal(result.images.length, 1);
  assert.equal(result.skipped.length, 1);
  assert.match(result.skipped[0]!.reason, /22x20/);
});
