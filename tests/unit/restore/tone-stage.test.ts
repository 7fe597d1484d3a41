// The tone stage of restore: after the model, a faded photo gets its tones back (decided from a bounded
// subsample, applied row by row), a photo that is not faded passes unchanged, and switching the stage on
// redoes outputs made without it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { restoreBatch } from '../../../src/main/engine/infer/batch';
import { wrapLayersModel, type RestoreModel } from '../../../src/main/engine/infer/model';
import { sampleForStatistics } from '../../../src/main/engine/infer/restore-image';
import { fromUint8 } from '../../../src/main/engine/data/image';
import * as ops from '../../../src/main/engine/data/synth/ops';
import { psnr } from '../../../src/main/engine/metrics/index';
import { identityModel, photoPixels, tempDir } from './helpers';
import { useTestBackend } from '../../helpers/native';

const W = 200;
const H = 150;
let identity: RestoreModel;
const { dir, cleanup } = await tempDir('studio-tone-stage-');

/** A photo with something black and something white in it, and its faded print. */
function photoAndFaded(): { clean: Float32Array; faded: Float32Array } {
  const img = fromUint8(Buffer.from(photoPixels(W, H, 3, 5)), W, H);
  for (let x = 0; x < W; x++) {
    for (let y = 0; y < 10; y++) img.data.fill(0.98, (y * W + x) * 3, (y * W + x) * 3 + 3);
    for (let y = H - 10; y < H; y++) img.data.fill(0.01, (y * W + x) * 3, (y * W + x) * 3 + 3);
  }
  const clean = Float32Array.from(img.data);
  const faded = ops.contrast(ops.fade(img, 0.5), 0.3).data;
  return { clean, faded };
}

async function writePng(path: string, data: Float32Array): Promise<void> {
  await mkdir(join(path, '..'), { recursive: true });
  const bytes = Buffer.from(Array.from(data, (v) => Math.round(Math.min(1, Math.max(0, v)) * 255)));
  await writeFile(path, await sharp(bytes, { raw: { width: W, height: H, channels: 3 } }).png().toBuffer());
}

async function readFloats(path: string): Promise<Float32Array> {
  const { data } = await sharp(path).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return Float32Array.from(data, (v) => v / 255);
}

before(async () => {
  await useTestBackend();
  identity = wrapLayersModel(identityModel(), { id: 'identity', name: 'identity', fingerprint: 'identity' });
});
after(async () => {
  identity.dispose();
  await cleanup();
});

test('with --tone a faded photo comes back; without it the output is the model’s alone', async () => {
  const { clean, faded } = photoAndFaded();
  const input = join(dir, 'faded');
  await writePng(join(input, 'print.png'), faded);
  const plain = await restoreBatch({ input, out: join(dir, 'plain'), model: identity });
  assert.equal(plain.done, 1);
  const untouched = await readFloats(join(dir, 'plain', 'print.png'));
  assert.ok(psnr(untouched, faded) > 45, 'an identity model without tone changes nothing');
  const toned = await restoreBatch({ input, out: join(dir, 'toned'), model: identity, tone: 1 });
  assert.equal(toned.done, 1);
  const back = await readFloats(join(dir, 'toned', 'print.png'));
  const before = psnr(faded, clean);
  const afterTone = psnr(back, clean);
  assert.ok(afterTone > before + 4, `PSNR against the unfaded photo ${before.toFixed(2)} -> ${afterTone.toFixed(2)} dB`);
});

test('a photo that is not faded passes the tone stage unchanged', async () => {
  const { clean } = photoAndFaded();
  const input = join(dir, 'fine');
  await writePng(join(input, 'fine.png'), clean);
  await restoreBatch({ input, out: join(dir, 'fine-out'), model: identity, tone: 1 });
  const out = await readFloats(join(dir, 'fine-out', 'fine.png'));
  const original = await readFloats(join(input, 'fine.png'));
  assert.ok(psnr(out, original) > 45, `kept ${psnr(out, original).toFixed(2)} dB`);
});

test('switching tone on redoes the outputs made without it; the same settings skip them', async () => {
  const { faded } = photoAndFaded();
  const input = join(dir, 'again');
  await writePng(join(input, 'a.png'), faded);
  const out = join(dir, 'again-out');
  assert.equal((await restoreBatch({ input, out, model: identity })).done, 1);
  assert.equal((await restoreBatch({ input, out, model: identity })).skipped, 1);
  assert.equal((await restoreBatch({ input, out, model: identity, tone: 0.7 })).done, 1, 'tone on: redone');
  assert.equal((await restoreBatch({ input, out, model: identity, tone: 0.7 })).skipped, 1);
});

test('tone statistics come from a bounded subsample of a large photo', () => {
  const width = 4000;
  const height = 3000;
  const pixels = new Uint8Array(width * height * 3).fill(128);
  const sample = sampleForStatistics({ width, height, channels: 3, pixels, maxValue: 255 }, 1_000_000);
  assert.ok(sample.width * sample.height <= 1_000_000 && sample.width * sample.height > 500_000, `${sample.width}x${sample.height}`);
  assert.ok(Math.abs(sample.data[0]! - 128 / 255) < 1e-6);
});
