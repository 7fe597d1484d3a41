// What a photographer cares about survives restoration (identity model, so any change is the pipeline's):
// EXIF fields, orientation applied once, a non-sRGB ICC profile with its colours exact, alpha untouched,
// grayscale written as grayscale, 16-bit written as 16-bit (PNG, TIFF), JPEG stays JPEG.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import '@tensorflow/tfjs-backend-cpu';
import { join } from 'node:path';
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import sharp, { type Sharp } from 'sharp';
import { restoreBatch } from '../../../src/main/engine/infer/batch';
import { wrapLayersModel, type RestoreModel } from '../../../src/main/engine/infer/model';
import { decodePhoto } from '../../../src/main/engine/infer/photo';
import { identityModel, photoPixels, tempDir } from './helpers';
import { useTestBackend } from '../../helpers/native';

let model: RestoreModel;
let root: { dir: string; cleanup: () => Promise<void> };
let outDir: string;
const W = 67;
const H = 45;
const EXIF = { IFD0: { Make: 'Acme Camera Co', Copyright: 'Jane Doe 1962' } };

before(async () => {
  await useTestBackend();
  model = wrapLayersModel(identityModel(), { id: 'identity', name: 'identity', fingerprint: 'identity' });
  root = await tempDir();
  const input = join(root.dir, 'in');
  await mkdir(input);
  const raw = (channels: 1 | 2 | 3 | 4, seed: number, sixteen = false): Sharp =>
    sharp(photoPixels(W, H, channels, seed, sixteen), { raw: { width: W, height: H, channels } });
  // Display P3 PNG, EXIF with orientation 6 (stored sideways: shown rotated by 90 degrees). withMetadata must come
  // before withIccProfile (it resets the profile to sRGB).
  await writeFile(join(input, 'p3.png'), await raw(3, 1).withMetadata({ orientation: 6 }).withIccProfile('p3').withExif(EXIF).png().toBuffer());
  // JPEG with EXIF, orientation 8, P3 profile.
  await writeFile(join(input, 'camera.jpg'), await raw(3, 2).withMetadata({ orientation: 8 }).withIccProfile('p3').withExif(EXIF).jpeg({ quality: 95 }).toBuffer());
  await writeFile(join(input, 'alpha.png'), await raw(4, 3).png().toBuffer());
  await writeFile(join(input, 'gray.png'), await raw(1, 4).toColourspace('b-w').png().toBuffer());
  await writeFile(join(input, 'gray-alpha.png'), await raw(2, 5).toColourspace('b-w').png().toBuffer());
  await writeFile(join(input, 'deep.png'), await raw(3, 6, true).toColourspace('rgb16').withExif(EXIF).png().toBuffer());
  await writeFile(join(input, 'deep-alpha.png'), await raw(4, 7, true).toColourspace('rgb16').png().toBuffer());
  await writeFile(join(input, 'scan.tif'), await raw(3, 8, true).toColourspace('rgb16').withIccProfile('p3').tiff({ compression: 'lzw' }).toBuffer());
  outDir = join(root.dir, 'out');
  const summary = await restoreBatch({ input, out: outDir, model });
  assert.equal(summary.done, 8, JSON.stringify(summary.failed));
  assert.deepEqual(summary.failed, []);
});

after(async () => {
  model.dispose();
  await root.cleanup();
});

/** Largest difference between two decodes, in units of 1/255. */
function maxDiff(a: { pixels: Uint8Array | Uint16Array; maxValue: number }, b: { pixels: Uint8Array | Uint16Array; maxValue: number }): number {
  assert.equal(a.pixels.length, b.pixels.length);
  let worst = 0;
  for (let i = 0; i < a.pixels.length; i++) worst = Math.max(worst, Math.abs(a.pixels[i]! / a.maxValue - b.pixels[i]! / b.maxValue));
  return worst * 255;
}

async function pair(name: string, outName = name): Promise<{ input: Buffer; output: Buffer }> {
  return { input: await readFile(join(root.dir, 'in', name)), output: await readFile(join(outDir, outName)) };
}

test('a Display P3 photo keeps its profile and its colours exactly; EXIF survives; orientation is applied once', async () => {
  const { input, output } = await pair('p3.png');
  const inMeta = await sharp(input).metadata();
  const outMeta = await sharp(output).metadata();
  assert.equal(inMeta.orientation, 6);
  assert.ok(!outMeta.orientation || outMeta.orientation === 1, `output orientation ${outMeta.orientation}`);
  assert.equal(outMeta.width, H, 'pixels are stored upright (rotated once)');
  assert.equal(outMeta.height, W);
  assert.ok(outMeta.icc && inMeta.icc && Buffer.compare(outMeta.icc, inMeta.icc) === 0, 'the same ICC profile');
  const exif = outMeta.exif?.toString('latin1') ?? '';
  assert.match(exif, /Acme Camera Co/);
  assert.match(exif, /Jane Doe 1962/);
  // Native values are equal, so shown through the profile the colours are equal.
  const before = await decodePhoto(input);
  const restored = await decodePhoto(output);
  assert.equal(maxDiff(before, restored), 0);
  // ...and as a colour-managed viewer sees them (converted to sRGB) too.
  const view = async (b: Buffer): Promise<Buffer> => sharp(b).autoOrient().toColourspace('srgb').raw().toBuffer();
  const [v1, v2] = [await view(input), await view(output)];
  let worst = 0;
  for (let i = 0; i < v1.length; i++) worst = Math.max(worst, Math.abs(v1[i]! - v2[i]!));
  assert.ok(worst <= 1, `sRGB view differs by ${worst}/255`);
  // The profile matters: the native values are not the sRGB ones (the test would be vacuous otherwise).
  assert.ok(Buffer.compare(Buffer.from(before.pixels.buffer, before.pixels.byteOffset, before.pixels.byteLength), v1) !== 0, 'P3 values differ from sRGB');
});

test('JPEG stays JPEG with EXIF and profile, upright once', async () => {
  const { input, output } = await pair('camera.jpg');
  const outMeta = await sharp(output).metadata();
  assert.equal(outMeta.format, 'jpeg');
  assert.ok(!outMeta.orientation || outMeta.orientation === 1, 'orientation reset');
  assert.equal(outMeta.width, H);
  assert.equal(outMeta.height, W);
  assert.ok(outMeta.icc, 'ICC kept');
  assert.match(outMeta.exif?.toString('latin1') ?? '', /Acme Camera Co/);
  const a = await decodePhoto(input);
  const b = await decodePhoto(output);
  let sum = 0;
  for (let i = 0; i < a.pixels.length; i++) sum += Math.abs(a.pixels[i]! - b.pixels[i]!);
  assert.ok(sum / a.pixels.length < 5, `mean JPEG re-encoding error ${sum / a.pixels.length} (quality 92)`);
});

test('alpha is passed through unchanged, 8- and 16-bit', async () => {
  for (const name of ['alpha.png', 'deep-alpha.png']) {
    const { input, output } = await pair(name);
    const outMeta = await sharp(output).metadata();
    assert.equal(outMeta.channels, 4, name);
    assert.equal(outMeta.hasAlpha, true, name);
    const a = await decodePhoto(input);
    const b = await decodePhoto(output);
    assert.equal(b.channels, 4);
    assert.equal(maxDiff(a, b), 0, `${name}: RGB and alpha identical through an identity model`);
  }
});

test('grayscale stays grayscale (one channel, with or without alpha)', async () => {
  for (const [name, channels] of [['gray.png', 1], ['gray-alpha.png', 2]] as const) {
    const { input, output } = await pair(name);
    const outMeta = await sharp(output).metadata();
    assert.equal(outMeta.channels, channels, name);
    assert.equal(outMeta.space, 'b-w', name);
    assert.equal(maxDiff(await decodePhoto(input), await decodePhoto(output)), 0, name);
  }
});

test('16-bit PNG and TIFF are written as 16-bit with their exact values', async () => {
  for (const name of ['deep.png', 'scan.tif']) {
    const { input, output } = await pair(name);
    const outMeta = await sharp(output).metadata();
    assert.equal(outMeta.depth, 'ushort', name);
    const a = await decodePhoto(input);
    const b = await decodePhoto(output);
    assert.equal(b.sixteenBit, true);
    assert.deepEqual(b.pixels, a.pixels, `${name}: identical 16-bit samples`);
  }
  const deep = await sharp(join(outDir, 'deep.png')).metadata();
  assert.match(deep.exif?.toString('latin1') ?? '', /Jane Doe 1962/);
  const scan = await sharp(join(outDir, 'scan.tif')).metadata();
  assert.ok(scan.icc, 'TIFF keeps its profile');
});

test('--format jpeg converts (alpha flattened on white), png keeps 16 bits, names follow the format', async () => {
  const out = join(root.dir, 'as-jpeg');
  const summary = await restoreBatch({ input: join(root.dir, 'in'), out, model, format: 'jpeg', quality: 80 });
  assert.equal(summary.done, 8);
  const alpha = await sharp(join(out, 'alpha.jpg')).metadata();
  assert.equal(alpha.format, 'jpeg');
  assert.equal(alpha.channels, 3);
  const deep = await sharp(join(out, 'deep.jpg')).metadata();
  assert.equal(deep.depth, 'uchar');
  const p3 = await sharp(join(out, 'p3.jpg')).metadata();
  assert.ok(p3.icc, 'profile kept across formats');
  const png = join(root.dir, 'as-png');
  await restoreBatch({ input: join(root.dir, 'in', 'scan.tif'), out: png, model, format: 'png' });
  const scan = await sharp(join(png, 'scan.png')).metadata();
  assert.equal(scan.format, 'png');
  assert.equal(scan.depth, 'ushort');
});
