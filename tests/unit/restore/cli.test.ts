// `studio restore` and `studio triage` as a user runs them: a batch killed mid-way resumes where it stopped,
// --json prints one summary line, models are found by id or folder, and a missing model is a clear error.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import '@tensorflow/tfjs-backend-cpu';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { savePackage } from '../../../src/main/engine/package/index';
import { lastJson, residualModel, saveModelFolder, snapshot, studio, studioChild, tempDir, writePhoto } from './helpers';
import { isAtomicTempName } from '../../../src/main/fs-atomic';
import { useTestBackend } from '../../helpers/native';

let root: string;
let cleanup: () => Promise<void>;
let modelDir: string;

before(async () => {
  await useTestBackend();
  ({ dir: root, cleanup } = await tempDir('studio-restore-cli-'));
  modelDir = join(root, 'model');
  const model = residualModel(11, 8);
  await saveModelFolder(model, modelDir);
  model.dispose();
});

after(async () => {
  await cleanup();
});

interface Summary {
  done: number;
  skipped: number;
  failed: { file: string; reason: string }[];
  out: string;
  megapixelsPerSecond: number;
}

/** Runs the CLI and sends `signal` once it reports its first finished file. */
async function interruptAfterFirstFile(args: string[], signal: NodeJS.Signals): Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }> {
  const child = studioChild(args);
  let stderr = '';
  let stdout = '';
  let sent = false;
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  return new Promise((resolve) => {
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      if (!sent && /^done /m.test(stderr)) {
        sent = true;
        child.kill(signal);
      }
    });
    child.on('exit', (code, sig) => resolve({ code, signal: sig, stdout, stderr }));
  });
}

test('Ctrl+C cancels between tiles; a batch killed mid-way resumes on rerun; every output is valid', async () => {
  const input = join(root, 'kill-in');
  const out = join(root, 'kill-out');
  const n = 6;
  for (let i = 0; i < n; i++) await writePhoto(join(input, `photo-${i}.png`), 320, 320, { seed: i });
  const before = await snapshot(input);
  const args = ['restore', input, '--out', out, '--model', modelDir, '--tile', '64'];
  // Ctrl+C: a clean stop with a summary and exit code 130.
  const interrupted = await interruptAfterFirstFile(args, 'SIGINT');
  assert.equal(interrupted.code, 130, interrupted.stderr.slice(-500));
  assert.match(interrupted.stdout, /Cancelled: 1 restored/);
  assert.match(interrupted.stdout, /again to resume/);
  // A crash: killed outright after finishing one more file.
  const killed = await interruptAfterFirstFile(args, 'SIGKILL');
  assert.equal(killed.signal, 'SIGKILL', `the child was killed mid-batch (stderr: ${killed.stderr.slice(-500)})`);
  assert.match(killed.stderr, /already done, skipped/);
  const rerun = studio([...args, '--json']);
  assert.equal(rerun.status, 0, rerun.stderr);
  assert.equal(rerun.stdout.trim().split('\n').length, 1, 'only the summary line on stdout');
  const summary = lastJson<Summary>(rerun.stdout);
  assert.ok(summary.skipped >= 2, `finished files skipped (${summary.skipped})`);
  assert.ok(summary.skipped < n, `the kill happened before the end (${summary.skipped} of ${n} were done)`);
  assert.equal(summary.done + summary.skipped, n);
  assert.deepEqual(summary.failed, []);
  assert.equal(summary.out, out);
  assert.equal(typeof summary.megapixelsPerSecond, 'number');
  const names = await readdir(out);
  assert.ok(!names.some((f) => isAtomicTempName(f)), 'no temporary files left');
  assert.ok(!names.includes('.studio-restore.lock'), 'lock released');
  for (let i = 0; i < n; i++) {
    const meta = await sharp(await readFile(join(out, `photo-${i}.png`))).metadata();
    assert.equal(meta.width, 320);
    assert.equal(meta.height, 320);
    await sharp(join(out, `photo-${i}.png`)).raw().toBuffer(); // decodes completely
  }
  const after = await snapshot(input);
  assert.deepEqual([...after.entries()], [...before.entries()], 'inputs untouched');
});

test('--json reports a corrupt file with its reason (exit 1); a missing model is a clear error', async () => {
  const input = join(root, 'json-in');
  await writePhoto(join(input, 'a.png'), 40, 40, { seed: 1 });
  await writeFile(join(input, 'b.jpg'), 'definitely not a jpeg');
  await writePhoto(join(input, 'c.png'), 40, 40, { seed: 3 });
  const run = studio(['restore', input, '--model', modelDir, '--json', '--format', 'png']);
  assert.equal(run.status, 1);
  assert.equal(run.stdout.trim().split('\n').length, 1);
  const summary = lastJson<Summary>(run.stdout);
  assert.equal(summary.done, 2);
  assert.equal(summary.skipped, 0);
  assert.equal(summary.failed.length, 1);
  assert.equal(summary.failed[0]!.file, 'b.jpg');
  assert.match(summary.failed[0]!.reason, /not an image/);
  assert.equal(summary.out, join(root, 'json-in-restored'));
  assert.match(run.stderr, /FAILED b\.jpg/);

  const home = join(root, 'empty-home');
  const missing = studio(['restore', input, '--model', 'nope', '--json'], { STUDIO_HOME: home });
  assert.equal(missing.status, 1);
  const error = lastJson<{ error: { code: string; message: string } }>(missing.stdout).error;
  assert.equal(error.code, 'MODEL_NOT_FOUND');
  assert.match(error.message, /no model "nope"/i);
  // With no bundled models (an empty bundled folder) and none of the user's, the default has nothing to use.
  const noDefault = studio(['restore', input], { STUDIO_HOME: home, STUDIO_BUNDLED_MODELS: join(root, 'no-bundled-models') });
  assert.equal(noDefault.status, 1);
  assert.match(noDefault.stderr, /No restoration model is available/);
  assert.match(noDefault.stderr, /--model/);
});

test('--model takes the id of a package in the models folder', async () => {
  const home = join(root, 'home');
  const model = residualModel(5, 4);
  await savePackage(join(home, 'models'), model, { name: 'Tiny test model', id: 'tiny', architecture: { id: 'external' } });
  model.dispose();
  const input = join(root, 'id-in');
  await writePhoto(join(input, 'a.jpg'), 48, 32, { seed: 1, format: 'jpeg' });
  const run = studio(['restore', input, '--model', 'tiny', '--json'], { STUDIO_HOME: home });
  assert.equal(run.status, 0, run.stderr);
  assert.equal(lastJson<Summary>(run.stdout).done, 1);
  assert.match(run.stderr, /Tiny test model/);
  assert.equal((await sharp(join(root, 'id-in-restored', 'a.jpg')).metadata()).format, 'jpeg');
});

test('studio triage --json lists the photos most damaged first', async () => {
  // A stand-in classifier: P(degraded) grows with brightness.
  const x = tfl.input({ shape: [16, 16, 3] });
  const pooled = tfl.layers.globalAveragePooling2d({}).apply(x) as tfl.SymbolicTensor;
  const dense = tfl.layers.dense({ units: 1, activation: 'sigmoid' });
  const classifier = tfl.model({ inputs: x, outputs: dense.apply(pooled) as tfl.SymbolicTensor });
  dense.setWeights([tf.tensor2d([[4], [4], [4]]), tf.tensor1d([-6])]);
  const dir = join(root, 'classifier');
  await saveModelFolder(classifier, dir);
  classifier.dispose();
  const photos = join(root, 'triage');
  for (const [name, level] of [['dark.png', 30], ['bright.png', 230], ['mid.png', 128]] as const) {
    await writePhoto(join(photos, name), 40, 30, { seed: 1 });
    await writeFile(join(photos, name), await sharp({ create: { width: 40, height: 30, channels: 3, background: { r: level, g: level, b: level } } }).png().toBuffer());
  }
  await writeFile(join(photos, 'broken.png'), 'nope');
  const run = studio(['triage', photos, '--model', dir, '--json']);
  assert.equal(run.status, 0, run.stderr);
  const rows = lastJson<{ file: string; score: number }[]>(run.stdout);
  assert.deepEqual(rows.map((r) => r.file), ['bright.png', 'mid.png', 'dark.png']);
  assert.ok(rows.every((r) => r.score >= 0 && r.score <= 1));
  assert.match(run.stderr, /broken\.png/);
  const none = studio(['triage', photos, '--json'], { STUDIO_HOME: join(root, 'empty-home'), STUDIO_BUNDLED_MODELS: join(root, 'no-bundled-models') });
  assert.equal(none.status, 1);
  assert.match(lastJson<{ error: { message: string } }>(none.stdout).error.message, /No classifier model is available/);
});
