// `npm run bundle:model` as the maintainer runs it: a trained package becomes a bundled one with its provenance,
// and --preset names what it restores when it was trained from a recipe file a preset now names.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import '@tensorflow/tfjs-backend-cpu';
import { savePackage } from '../../src/main/engine/package/index';
import * as tf from '@tensorflow/tfjs-core';
import { identityModel, tempDir } from './methods/fixtures';

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, '../..');

async function bundle(args: string[]): Promise<{ code: number; stderr: string }> {
  try {
    const { stderr } = await run(process.execPath, ['--import', 'tsx', 'scripts/bundle-model.ts', ...args], { cwd: ROOT });
    return { code: 0, stderr };
  } catch (error) {
    const e = error as { code: number; stderr: string };
    return { code: e.code, stderr: e.stderr };
  }
}

test('bundle:model writes the provenance and, with --preset and --name, what the model restores and its name; an unknown preset is refused', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const trained = join(dir, 'trained');
    const { dir: from } = await savePackage(trained, identityModel(), {
      name: 'Trained',
      id: 'run',
      architecture: { id: 'external' },
      restores: { preset: 'docs/models/old-photo-restore.recipe.json', description: 'from a recipe file' },
    });
    const commands = join(dir, 'commands.txt');
    await writeFile(commands, '# how it was made\nnpm run studio -- train --synth docs/models/old-photo-restore.recipe.json\n');
    const out = join(dir, 'bundled');

    const done = await bundle(['--from', from, '--id', 'old-photo', '--commands', commands, '--preset', 'old-photo-restore', '--description', 'Old photos', '--name', 'Old photo', '--prior-seconds', '60', '--out-dir', out]);
    assert.equal(done.code, 0, done.stderr);
    const card = JSON.parse(await readFile(join(out, 'old-photo', 'card.json'), 'utf8'));
    assert.deepEqual(card.restores, { preset: 'old-photo-restore', description: 'Old photos' });
    assert.equal(card.id, 'old-photo');
    assert.equal(card.name, 'Old photo');
    assert.deepEqual(card.provenance.commands, ['npm run studio -- train --synth docs/models/old-photo-restore.recipe.json']);
    assert.equal(card.provenance.trainingSeconds, 60);

    const refused = await bundle(['--from', from, '--id', 'other', '--commands', commands, '--preset', 'no-such-preset', '--out-dir', out]);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /Unknown preset "no-such-preset"/);
  } finally {
    await cleanup();
  }
});

test('bundle:model --checkpoint ships one epoch of the run: its weights, its validation scores as the final ones, its training time', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const history = [1, 2, 3].map((epoch) => ({ epoch, loss: 0.1 / epoch, valLoss: 0.2 / epoch, valPsnr: 20 + epoch, valSsim: 0.5 + epoch / 10, lr: 1e-3, patchesPerSecond: 10, elapsed: 40 * epoch }));
    const training = { dataFingerprint: null, recipe: null, history, finalMetrics: { psnr: 22, ssim: 0.7, loss: 0.1 }, backend: 'cpu', seconds: 120 };
    // The saved model is the best epoch (2); the checkpoint of epoch 3 holds other weights.
    const { dir: from } = await savePackage(join(dir, 'trained'), identityModel(), { name: 'Run', id: 'run', architecture: { id: 'external' }, training });
    const later = identityModel();
    later.setWeights(later.getWeights().map((w) => tf.mul(w, 2)));
    const { dir: laterDir } = await savePackage(join(dir, 'later'), later, { name: 'Later', id: 'later', architecture: { id: 'external' } });
    const checkpoint = join(dir, 'run-folder', 'checkpoints', 'epoch-0003');
    await mkdir(checkpoint, { recursive: true });
    for (const name of ['model.json', 'weights.bin']) await copyFile(join(laterDir, name), join(checkpoint, name));
    // The saved card says 120 s of training; the checkpoint, written later in the run, says 150.
    await writeFile(join(checkpoint, 'state.json'), JSON.stringify({ epoch: 3, history, elapsed: 150 }));
    const commands = join(dir, 'commands.txt');
    await writeFile(commands, 'npm run studio -- train\n');

    const done = await bundle(['--from', from, '--id', 'shipped', '--commands', commands, '--checkpoint', checkpoint, '--out-dir', join(dir, 'bundled')]);
    assert.equal(done.code, 0, done.stderr);
    const shipped = join(dir, 'bundled', 'shipped');
    assert.deepEqual(await readFile(join(shipped, 'weights.bin')), await readFile(join(checkpoint, 'weights.bin')));
    assert.notDeepEqual(await readFile(join(shipped, 'weights.bin')), await readFile(join(from, 'weights.bin')));
    const card = JSON.parse(await readFile(join(shipped, 'card.json'), 'utf8'));
    assert.deepEqual(card.training.finalMetrics, { psnr: 23, ssim: 0.8, loss: 0.2 / 3 });
    assert.equal(card.training.history.length, 3);
    assert.equal(card.training.seconds, 150, 'the training time up to the checkpoint');
    assert.equal(card.provenance.trainingSeconds, 150);
  } finally {
    await cleanup();
  }
});
