// The repair stage of restore: a damage detector's mask is filled before the model, only there; a clean photo
// passes as it would without the stage; the mask is kept for Compare; switching the stage on redoes outputs;
// detectors and restorers are not taken for each other; the CLI's --repair reaches the engine.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { restoreBatch } from '../../../src/main/engine/infer/batch';
import { loadDamageDetector, loadRestoreModel, wrapLayersModel, type RestoreModel } from '../../../src/main/engine/infer/model';
import { MASKS_DIR } from '../../../src/main/engine/infer/mask-file';
import { savePackage } from '../../../src/main/engine/package/index';
import { brightDetectorModel, identityModel, lastJson, studio, tempDir } from './helpers';
import { useTestBackend } from '../../helpers/native';

const W = 120;
const H = 90;
let identity: RestoreModel;
let detector: RestoreModel;
const { dir, cleanup } = await tempDir('studio-repair-stage-');


/** A smooth photo (values 0.2-0.6) and the same photo with a white scratch 2 px wide along a diagonal. */
function photos(): { clean: Uint8Array; scratched: Uint8Array; onScratch: (x: number, y: number) => boolean } {
  const clean = new Uint8Array(W * H * 3);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      for (let c = 0; c < 3; c++) clean[(y * W + x) * 3 + c] = Math.round(255 * (0.2 + 0.4 * (x / W) * (0.5 + 0.5 * (y / H)) + 0.05 * c));
    }
  }
  const onScratch = (x: number, y: number): boolean => Math.abs(x - 20 - y) <= 1;
  const scratched = clean.slice();
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) if (onScratch(x, y)) scratched.fill(250, (y * W + x) * 3, (y * W + x) * 3 + 3);
  return { clean, scratched, onScratch };
}

/**
 * How a result did on photos(): its mean error against the clean photo on the scratch (0-255), and how many
 * samples more than 4 pixels from the scratch differ from `reference`.
 */
function repairScores(result: Uint8Array, reference: Uint8Array): { scratchError: number; farChanged: number } {
  const { clean, onScratch } = photos();
  let error = 0;
  let count = 0;
  let farChanged = 0;
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const p = (y * W + x) * 3;
      for (let c = 0; c < 3; c++) {
        if (onScratch(x, y)) {
          error += Math.abs(result[p + c]! - clean[p + c]!);
          count++;
        } else if (Math.abs(x - 20 - y) > 4 && result[p + c] !== reference[p + c]) farChanged++;
      }
    }
  }
  return { scratchError: error / count, farChanged };
}

async function writePng(path: string, pixels: Uint8Array): Promise<void> {
  await mkdir(join(path, '..'), { recursive: true });
  await writeFile(path, await sharp(pixels, { raw: { width: W, height: H, channels: 3 } }).png().toBuffer());
}

async function readPixels(path: string, channels: 3 | 4 = 3): Promise<Uint8Array> {
  const image = channels === 3 ? sharp(path).removeAlpha() : sharp(path).ensureAlpha();
  return new Uint8Array((await image.raw().toBuffer()).buffer.slice(0));
}

before(async () => {
  await useTestBackend();
  identity = wrapLayersModel(identityModel(), { id: 'identity', name: 'identity', fingerprint: 'identity' });
  const bright = brightDetectorModel();
  const saved = await savePackage(join(dir, 'models'), bright, { name: 'Bright damage', id: 'bright', task: 'detect', architecture: { id: 'external' } });
  bright.dispose();
  detector = await loadDamageDetector(saved.dir);
});
after(async () => {
  identity.dispose();
  detector.dispose();
  await cleanup();
});

test('repair fills the scratch from around it, keeps every other pixel, and keeps the mask it filled', async () => {
  const { scratched } = photos();
  const input = join(dir, 'scratched');
  await writePng(join(input, 'print.png'), scratched);
  const tensors = tf.memory().numTensors;
  const plain = await restoreBatch({ input, out: join(dir, 'plain'), model: identity });
  const repaired = await restoreBatch({ input, out: join(dir, 'repaired'), model: identity, repair: { detector, strength: 0.5 } });
  assert.equal(tf.memory().numTensors, tensors, 'the stage leaves no tensors behind');
  assert.equal(plain.done, 1);
  assert.equal(repaired.done, 1);
  const outcome = repaired.files[0]!;
  assert.equal(outcome.status, 'done');
  if (outcome.status !== 'done') return;
  assert.ok(outcome.notes.some((n) => /damage filled on \d+\.\d+% of the pixels/.test(n)), outcome.notes.join('; '));
  const before = await readPixels(join(dir, 'plain', 'print.png'));
  const after = await readPixels(join(dir, 'repaired', 'print.png'));
  assert.ok(repairScores(before, before).scratchError > 100, 'without repair the scratch stays');
  const { scratchError, farChanged } = repairScores(after, before);
  assert.ok(scratchError < 6, `with repair the scratch is filled close to the photo (mean error ${scratchError.toFixed(1)} of 255)`);
  assert.equal(farChanged, 0, 'pixels away from the damage are the model’s output, unchanged');
  // The mask: red where pixels were replaced, transparent elsewhere, the input's size.
  assert.equal(outcome.mask, join(MASKS_DIR, 'print.png.png'));
  const maskPath = join(dir, 'repaired', outcome.mask);
  const meta = await sharp(maskPath).metadata();
  assert.deepEqual([meta.width, meta.height], [W, H]);
  const mask = await readPixels(maskPath, 4);
  assert.ok(mask[((30 * W) + 50) * 4 + 3]! > 200, 'opaque on the scratch (x 50, y 30)');
  assert.equal(mask[((30 * W) + 90) * 4 + 3], 0, 'transparent far from it');
  // A second pass over the output folder does not take the masks for photos.
  const second = await restoreBatch({ input: join(dir, 'repaired'), out: join(dir, 'second'), model: identity });
  assert.equal(second.done + second.skipped + second.failed.length, 1);
});

test('a clean photo passes the repair stage as it would without it', async () => {
  const { clean } = photos();
  const input = join(dir, 'clean');
  await writePng(join(input, 'clean.png'), clean);
  await restoreBatch({ input, out: join(dir, 'clean-plain'), model: identity });
  const repaired = await restoreBatch({ input, out: join(dir, 'clean-repaired'), model: identity, repair: { detector, strength: 1 } });
  const outcome = repaired.files[0]!;
  assert.ok(outcome.status === 'done' && outcome.notes.includes('no damage found'));
  assert.deepEqual(await readPixels(join(dir, 'clean-repaired', 'clean.png')), await readPixels(join(dir, 'clean-plain', 'clean.png')));
});

test('switching repair on, or changing its strength, redoes the outputs; the same settings skip them', async () => {
  const { scratched } = photos();
  const input = join(dir, 'rerun');
  const out = join(dir, 'rerun-out');
  await writePng(join(input, 'a.png'), scratched);
  assert.equal((await restoreBatch({ input, out, model: identity })).done, 1);
  assert.equal((await restoreBatch({ input, out, model: identity, repair: { detector, strength: 0.5 } })).done, 1);
  assert.equal((await restoreBatch({ input, out, model: identity, repair: { detector, strength: 0.5 } })).skipped, 1);
  assert.equal((await restoreBatch({ input, out, model: identity, repair: { detector, strength: 0.8 } })).done, 1);
});

test('a detector is not taken for a restoration model, nor a restoration model for a detector', async () => {
  const restorer = identityModel();
  const saved = await savePackage(join(dir, 'models'), restorer, { name: 'Identity', id: 'identity', architecture: { id: 'external' } });
  restorer.dispose();
  await assert.rejects(loadRestoreModel(join(dir, 'models', 'bright')), (e: Error & { code?: string }) => e.code === 'MODEL_INVALID' && /damage detector/.test(e.message) && /--repair/.test(e.message));
  await assert.rejects(loadDamageDetector(saved.dir), (e: Error & { code?: string }) => e.code === 'MODEL_INVALID' && /not a damage detector/.test(e.message) && e.message.includes(saved.dir));
});

test('studio restore --repair fills damage through the engine; a strength out of range is refused by name', () => {
  const bad = studio(['restore', join(dir, 'scratched'), '--repair', '2', '--model', join(dir, 'models', 'identity')]);
  assert.equal(bad.status, 2, bad.stderr);
  assert.match(bad.stderr, /--repair/);
  const run = studio([
    'restore',
    join(dir, 'scratched'),
    '--out',
    join(dir, 'cli-out'),
    '--model',
    join(dir, 'models', 'identity'),
    '--repair',
    '0.5',
    '--repair-model',
    join(dir, 'models', 'bright'),
    '--json',
  ]);
  assert.equal(run.status, 0, run.stderr);
  assert.equal(lastJson<{ done: number }>(run.stdout).done, 1);
  assert.match(run.stderr, /damage filled on/);
});

test('studio restore --stages repair fills the damage and runs no model: every other pixel is the input’s', async () => {
  const { scratched } = photos();
  const run = studio(['restore', join(dir, 'scratched'), '--out', join(dir, 'stages-out'), '--stages', 'repair', '--strength', '0.5', '--repair-model', join(dir, 'models', 'bright'), '--json']);
  assert.equal(run.status, 0, run.stderr);
  assert.equal(lastJson<{ done: number }>(run.stdout).done, 1);
  assert.match(run.stderr, /No model \(repair and tone only\)/);
  const { scratchError, farChanged } = repairScores(await readPixels(join(dir, 'stages-out', 'print.png')), scratched);
  assert.ok(scratchError < 6, `the scratch is filled (mean error ${scratchError.toFixed(1)} of 255)`);
  assert.equal(farChanged, 0, 'no network touched the rest of the photo');
  const conflict = studio(['restore', join(dir, 'scratched'), '--stages', 'repair', '--tone', '0.4']);
  assert.equal(conflict.status, 2, conflict.stderr);
  assert.match(conflict.stderr, /--tone is given but --stages leaves the tone stage out/);
});
