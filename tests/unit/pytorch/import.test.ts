// Importing .pth / .safetensors through the model library (importModel, and `studio models import FILE
// --json` as a real process): the package lists, loads, keeps PyTorch's output through save and load,
// restores a photo (1x), carries a card naming the source file, its sha256, architecture and scale; and
// tensors do not leak.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { importModel, listModels, renameModel } from '../../../src/main/engine/methods/models';
import { loadModelDir, loadRestoreModel, restoreBatch } from '../../../src/main/engine/infer/index';
import { StudioError } from '#shared/rpc/errors';
import { useTestBackend } from '../../helpers/native';
import { tempDir } from '../methods/fixtures';
import { writePhoto } from '../restore/helpers';
import { jsonLines, runCli } from '../cli/run-cli';
import { FIXTURES, fixtureInput, fixtureOutput, manifest } from './fixtures';

await useTestBackend();
const { dir: home, cleanup } = await tempDir('studio-pytorch-import-');
test.after(cleanup);
const modelsDir = join(home, 'models');

const fixture = (file: string) => manifest.models.find((m) => m.file === file)!;

test('a 1x Compact .safetensors imports, lists, and restores a photo to the same size', async () => {
  const source = join(FIXTURES, 'compact-x1.safetensors');
  const result = await importModel({ source, modelsDir });
  assert.equal(result.kind, 'pytorch');
  assert.equal(result.id, 'compact-x1');
  const { card } = result;
  assert.equal(card.source, 'imported-pytorch');
  assert.equal(card.task, 'restore');
  assert.equal(card.scale, 1);
  assert.equal(card.architecture.id, 'compact');
  assert.deepEqual(card.architecture.hyper, { features: 8, convs: 2, scale: 1 });
  assert.deepEqual(card.imported, {
    format: 'safetensors',
    file: 'compact-x1.safetensors',
    sha256: createHash('sha256').update(await readFile(source)).digest('hex'),
    architecture: 'compact',
    scale: 1,
  });
  assert.equal(card.license, null);
  assert.match(card.restores.description, /Real-ESRGAN Compact.*1x, imported from compact-x1\.safetensors/);
  assert.ok(card.macsPerPixel! > 0);

  const listed = (await listModels({ modelsDir })).find((m) => m.id === 'compact-x1');
  assert.ok(listed && listed.error === null && listed.source === 'imported-pytorch' && listed.arch === 'compact');

  const input = join(home, 'photos');
  await writePhoto(join(input, 'a.png'), 40, 32, { seed: 3 });
  const model = await loadRestoreModel('compact-x1', { modelsDir });
  try {
    const summary = await restoreBatch({ input, out: join(home, 'restored'), model });
    assert.equal(summary.done, 1);
    const meta = await sharp(join(home, 'restored', 'a.png')).metadata();
    assert.deepEqual([meta.width, meta.height], [40, 32]);
  } finally {
    model.dispose();
  }
});

test('imported upscalers and pixel-unshuffle models restore photos of odd sizes at their scale', async () => {
  const input = join(home, 'odd');
  await writePhoto(join(input, 'odd.png'), 41, 33, { seed: 4 });
  for (const [file, scale] of [['realesrgan-x1.pth', 1], ['realesrgan-x2-fp16.pth', 2], ['span-x4.pth', 4]] as const) {
    const result = await importModel({ source: join(FIXTURES, file), modelsDir, name: `odd ${file}` });
    const model = await loadRestoreModel(result.id, { modelsDir });
    try {
      const out = join(home, `odd-${result.id}`);
      const summary = await restoreBatch({ input, out, model });
      assert.equal(summary.done, 1, file);
      const meta = await sharp(join(out, 'odd.png')).metadata();
      assert.deepEqual([meta.width, meta.height], [41 * scale, 33 * scale], file);
    } finally {
      model.dispose();
    }
  }
});

test('imported packages keep PyTorch\'s output through save and load (pixel shuffle, pixel unshuffle, legacy fp16, SPAN)', async () => {
  for (const file of ['compact-x4.pth', 'realesrgan-x2-fp16.pth', 'esrgan-old-x4-legacy.pth', 'realesrgan-x1.pth', 'span-x4.pth']) {
    const entry = fixture(file);
    const result = await importModel({ source: join(FIXTURES, file), modelsDir });
    assert.equal(result.card.scale, entry.scale, file);
    assert.equal(result.card.imported?.architecture, entry.architecture);
    const loaded = await loadModelDir(result.path);
    const input = await fixtureInput();
    const expected = await fixtureOutput(entry);
    try {
      const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(loaded.model.predict(input) as tf.Tensor, expected))).dataSync()[0]!);
      assert.ok(diff <= 1e-4, `${file}: largest difference ${diff}`);
    } finally {
      loaded.model.dispose();
      tf.dispose([input, expected]);
    }
  }
  // The pixel-unshuffle variants ask the tiler for sizes their factor divides.
  const cards = new Map((await listModels({ modelsDir })).map((m) => [m.id, m]));
  assert.ok(cards.has('realesrgan-x1') && cards.has('realesrgan-x2-fp16'));
  const { readCard } = await import('../../../src/main/engine/package/index');
  assert.equal((await readCard(join(modelsDir, 'realesrgan-x1'))).architecture.requiredMultiple, 4);
  assert.equal((await readCard(join(modelsDir, 'realesrgan-x2-fp16'))).architecture.requiredMultiple, 2);
});

test('import and predict leave no tensors behind', async () => {
  const source = join(FIXTURES, 'realesrgan-x4.pth');
  const warm = await importModel({ source, modelsDir, name: 'warm-up' });
  (await loadModelDir(warm.path)).model.dispose();
  const before = tf.memory().numTensors;
  for (let i = 0; i < 2; i++) {
    const result = await importModel({ source, modelsDir, name: `leak check ${i}` });
    const loaded = await loadModelDir(result.path);
    const input = await fixtureInput();
    const out = loaded.model.predict(input) as tf.Tensor;
    assert.deepEqual(out.shape, [1, 32, 48, 3]);
    tf.dispose([input, out]);
    loaded.model.dispose();
  }
  assert.equal(tf.memory().numTensors, before);
});

test('a damaged .pth through importModel is refused with the reader\'s sentence', async () => {
  await assert.rejects(importModel({ source: join(FIXTURES, 'manifest.json'), modelsDir }), (e: unknown) => {
    assert.ok(e instanceof StudioError && e.code === 'MODEL_INVALID' && /manifest\.json: is neither/.test(e.message), String(e));
    return true;
  });
});

test('the licence a user fills in is saved on the card, kept by a rename, and cleared with null', async () => {
  const result = await importModel({ source: join(FIXTURES, 'compact-x4.pth'), modelsDir, name: 'licensed' });
  const set = await renameModel({ id: result.id, name: 'licensed', license: '  CC BY-NC-SA 4.0 ', modelsDir });
  assert.equal(set.license, 'CC BY-NC-SA 4.0');
  const renamed = await renameModel({ id: result.id, name: 'Licensed 4x', modelsDir });
  assert.equal(renamed.license, 'CC BY-NC-SA 4.0');
  assert.equal(renamed.name, 'Licensed 4x');
  assert.equal((await renameModel({ id: result.id, name: 'Licensed 4x', license: null, modelsDir })).license, null);
});

test('studio models import FILE.pth --json prints the one-line result with the new id; show prints the source, scale and licence (real processes)', async () => {
  const run = await runCli(['models', 'import', join(FIXTURES, 'bsrgan-x2.pth'), '--backend', 'cpu', '--json'], { STUDIO_HOME: home });
  assert.equal(run.status, 0, run.stderr);
  const lines = jsonLines(run.stdout);
  assert.equal(lines.length, 1);
  const row = lines[0] as Record<string, unknown>;
  assert.equal(row.id, 'bsrgan-x2');
  assert.equal(row.arch, 'esrgan');
  assert.equal(row.kind, 'pytorch');
  assert.equal(row.path, join(home, 'models', 'bsrgan-x2'));
  await renameModel({ id: 'bsrgan-x2', name: 'bsrgan-x2', license: 'CC BY-NC 4.0', modelsDir });
  const show = await runCli(['models', 'show', 'bsrgan-x2', '--backend', 'cpu'], { STUDIO_HOME: home });
  assert.equal(show.status, 0, show.stderr);
  assert.match(show.stdout, /imported from bsrgan-x2\.pth \(pth, esrgan 2x\) sha256 [0-9a-f]{64}/);
  assert.match(show.stdout, /scale {9}2x/);
  assert.match(show.stdout, /licence {7}CC BY-NC 4\.0 — does not allow commercial use/);
});
