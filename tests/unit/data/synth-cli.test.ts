import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { decodeImageFile } from '../../../src/main/engine/data/image';
import { SynthReportSchema } from '#shared/dataset';
import { synthesizeFolder } from '../../../src/main/engine/data/synth/folder';
import { presetRecipe } from '../../../src/main/engine/data/synth/presets';
import { smoothPixels, tempDir, writeRaw } from './fixtures';

const root = join(import.meta.dirname, '../../..');
let dir = '';
let cleanup: () => Promise<void> = async () => {};
let input = '';

async function studio(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'src/main/cli/index.ts', ...args], { cwd: root });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

before(async () => {
  ({ dir, cleanup } = await tempDir());
  input = join(dir, 'photos');
  await writeRaw(join(input, 'a.png'), smoothPixels(64, 48, 1), 64, 48);
  await writeRaw(join(input, 'b.jpg'), smoothPixels(50, 70, 2), 50, 70, 'jpeg');
  await writeRaw(join(input, 'nested', 'c.webp'), smoothPixels(40, 40, 3), 40, 40, 'webp');
  await writeFile(join(input, 'broken.jpg'), Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3]));
  await writeFile(join(input, 'notes.txt'), 'not an image');
});

after(() => cleanup());

test('`studio synth` writes a paired folder, skips bad files and reports as JSON', async () => {
  const out = join(dir, 'out');
  const r = await studio('synth', input, '--out', out, '--preset', 'gaussian:25', '--seed', '3', '--json');
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines.length, 1);
  const report = SynthReportSchema.parse(JSON.parse(lines[0]!));
  assert.equal(report.written, 3);
  assert.equal(report.preset, 'gaussian:25');
  assert.equal(report.seed, 3);
  assert.equal(report.out, out);
  assert.deepEqual(report.skipped.map((s) => s.file), ['broken.jpg']);
  assert.match(r.stderr, /skipped broken\.jpg/);
  assert.deepEqual((await readdir(join(out, 'clean'))).sort(), ['a.png', 'b.png', 'nested']);
  assert.deepEqual(await readdir(join(out, 'degraded', 'nested')), ['c.png']);
  assert.ok(!(await readdir(out)).some((f) => f.includes('.tmp')));
  // The degraded image is the clean one plus noise of sigma ≈ 25 (a little less: PNG clips at 0 and 255).
  const clean = (await decodeImageFile(join(out, 'clean', 'a.png'))).image;
  const noisy = (await decodeImageFile(join(out, 'degraded', 'a.png'))).image;
  let sq = 0;
  for (let i = 0; i < clean.data.length; i++) sq += (noisy.data[i]! - clean.data[i]!) ** 2;
  const sigma = Math.sqrt(sq / clean.data.length);
  assert.ok(sigma > 21 && sigma < 27, `sigma ${sigma}`);
  const manifest = JSON.parse(await readFile(join(out, 'synth.json'), 'utf8'));
  assert.equal(manifest.seed, 3);
  // The output is a valid paired dataset.
  const check = await studio('dataset', 'check', out, '--json', '--min-size', '16');
  assert.equal(JSON.parse(check.stdout).pairs, 3);
});

test('synthesis to a folder is reproducible per seed', async () => {
  const opts = { recipe: presetRecipe('old-photo'), preset: 'old-photo' };
  await synthesizeFolder(input, join(dir, 's1'), { ...opts, seed: 5 });
  await synthesizeFolder(input, join(dir, 's2'), { ...opts, seed: 5 });
  await synthesizeFolder(input, join(dir, 's3'), { ...opts, seed: 6 });
  const bytes = (d: string): Promise<Buffer> => readFile(join(dir, d, 'degraded', 'a.png'));
  assert.deepEqual(await bytes('s1'), await bytes('s2'));
  assert.notDeepEqual(await bytes('s1'), await bytes('s3'));
});

test('`studio synth` never writes into its input', async () => {
  const before = (await readdir(input)).sort();
  const r = await studio('synth', input, '--out', join(input, 'out'), '--preset', 'jpeg:20', '--json');
  assert.equal(r.code, 1);
  assert.equal(JSON.parse(r.stdout.trim()).error.code, 'OUTPUT_UNWRITABLE');
  assert.deepEqual((await readdir(input)).sort(), before);
  const bad = await studio('synth', input, '--out', join(dir, 'x'), '--preset', 'gaussian:lots');
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /sigma/);
});
