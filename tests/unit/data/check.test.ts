import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { checkDataset } from '../../../src/main/engine/data/check';
import { pairFiles, scanDataset } from '../../../src/main/engine/data/dataset';
import { decodeImage, decodeImageFile } from '../../../src/main/engine/data/image';
import { DatasetReportSchema } from '#shared/dataset';
import { invert, randomPixels, tempDir, writeRaw } from './fixtures';

const W = 80;
const H = 64;
let dir = '';
let cleanup: () => Promise<void> = async () => {};

async function pair(name: string, degradedName = name, seed = name.charCodeAt(0)): Promise<Buffer> {
  const px = randomPixels(W, H, seed);
  await writeRaw(join(dir, 'clean', name), px, W, H, formatOf(name));
  await writeRaw(join(dir, 'degraded', degradedName), invert(px), W, H, formatOf(degradedName));
  return px;
}

function formatOf(name: string): 'png' | 'jpeg' | 'webp' | 'tiff' | 'gif' {
  if (/\.jpe?g$/.test(name)) return 'jpeg';
  if (name.endsWith('.webp')) return 'webp';
  if (/\.tiff?$/.test(name)) return 'tiff';
  if (name.endsWith('.gif')) return 'gif';
  return 'png';
}

before(async () => {
  ({ dir, cleanup } = await tempDir());
  await pair('a.png');
  await pair('b.png', 'b.jpg'); // same stem, different extensions
  await writeRaw(join(dir, 'degraded', 'c.png'), randomPixels(W, H, 3), W, H); // no clean partner
  await writeRaw(join(dir, 'clean', 'd.png'), randomPixels(W, H, 4), W, H); // no degraded partner
  // Size mismatch.
  await writeRaw(join(dir, 'clean', 'e.png'), randomPixels(W + 8, H, 5), W + 8, H);
  await writeRaw(join(dir, 'degraded', 'e.png'), randomPixels(W, H, 5), W, H);
  // Corrupt JPEG (truncated) on the degraded side; garbage with a .jpg name, unpaired.
  await pair('f.png', 'f.png');
  const jpeg = await sharp(randomPixels(W, H, 6), { raw: { width: W, height: H, channels: 3 } }).jpeg().toBuffer();
  await writeFile(join(dir, 'degraded', 'f.jpg'), jpeg.subarray(0, Math.floor(jpeg.length / 2)));
  await writeFile(join(dir, 'degraded', 'f.png'), jpeg.subarray(0, 0)); // empty file
  await writeFile(join(dir, 'clean', 'z.jpg'), 'this is not a JPEG at all');
  // Non-image.
  await writeFile(join(dir, 'clean', 'notes.txt'), 'hello');
  // Duplicate pair (byte-identical to a).
  await copyFile(join(dir, 'clean', 'a.png'), join(dir, 'clean', 'g.png'));
  await copyFile(join(dir, 'degraded', 'a.png'), join(dir, 'degraded', 'g.png'));
  // EXIF-rotated clean JPEG: stored 80x64 with orientation 6 → shown 64x80, like its degraded partner.
  const stored = randomPixels(W, H, 8);
  const oriented = await sharp(stored, { raw: { width: W, height: H, channels: 3 } }).jpeg({ quality: 95 }).withMetadata({ orientation: 6 }).toBuffer();
  await writeFile(join(dir, 'clean', 'h.jpg'), oriented);
  await writeRaw(join(dir, 'degraded', 'h.png'), randomPixels(H, W, 9), H, W);
  // Grayscale clean.
  const gray = Buffer.alloc(W * H);
  for (let i = 0; i < gray.length; i++) gray[i] = (i * 7) % 256;
  await writeFile(join(dir, 'clean', 'i.png'), await sharp(gray, { raw: { width: W, height: H, channels: 1 } }).toColourspace('b-w').png().toBuffer());
  await writeRaw(join(dir, 'degraded', 'i.png'), randomPixels(W, H, 10), W, H);
  // 16-bit clean.
  const deep = new Uint16Array(W * H * 3);
  for (let i = 0; i < deep.length; i++) deep[i] = (i * 997) % 65536;
  await writeFile(join(dir, 'clean', 'j.png'), await sharp(deep, { raw: { width: W, height: H, channels: 3 } }).toColourspace('rgb16').png().toBuffer());
  await writeRaw(join(dir, 'degraded', 'j.png'), randomPixels(W, H, 11), W, H);
  // Alpha: left half transparent.
  const rgba = Buffer.alloc(W * H * 4);
  for (let p = 0; p < W * H; p++) rgba.set([10, 20, 30, p % W < W / 2 ? 0 : 255], p * 4);
  await writeRaw(join(dir, 'clean', 'k.png'), rgba, W, H, 'png', 4);
  await writeRaw(join(dir, 'degraded', 'k.png'), randomPixels(W, H, 12), W, H);
  // Animated GIF (2 frames): the first frame is used.
  await writeFile(
    join(dir, 'clean', 'm.gif'),
    await sharp(randomPixels(W, H * 2, 13), { raw: { width: W, height: H * 2, channels: 3, pageHeight: H } }).gif().toBuffer(),
  );
  await writeRaw(join(dir, 'degraded', 'm.png'), randomPixels(W, H, 14), W, H);
  // WebP ↔ TIFF, and AVIF.
  await pair('o.tiff', 'o.webp');
  const avifPx = randomPixels(W, H, 17);
  await writeFile(join(dir, 'clean', 'n.avif'), await sharp(avifPx, { raw: { width: W, height: H, channels: 3 } }).avif({ quality: 90 }).toBuffer());
  await writeRaw(join(dir, 'degraded', 'n.png'), invert(avifPx), W, H);
  // Too small.
  await writeRaw(join(dir, 'clean', 't.png'), randomPixels(20, 20, 15), 20, 20);
  await writeRaw(join(dir, 'degraded', 't.png'), randomPixels(20, 20, 16), 20, 20);
});

after(() => cleanup());

test('pairing: exact names first, then the same stem with the preferred extension', () => {
  const r = pairFiles(['a.png', 'b.jpg', 'c.png', 'x.png', 'x.jpg'], ['a.png', 'b.png', 'b.tif', 'd.png', 'x.png']);
  assert.deepEqual(r.pairs, [
    ['a.png', 'a.png'],
    ['b.jpg', 'b.png'],
    ['x.png', 'x.png'],
  ]);
  assert.deepEqual(r.unpairedDegraded, ['c.png', 'x.jpg']);
  assert.deepEqual(r.unpairedClean, ['b.tif', 'd.png']);
});

test('check reports every kind of bad file and what it will use', async () => {
  const { report, dataset } = await checkDataset(dir);
  DatasetReportSchema.parse(report);
  assert.equal(report.kind, 'paired');
  const used = dataset.items.map((i) => i.id).sort();
  assert.deepEqual(used, ['a.png', 'b.png', 'h.jpg', 'i.png', 'j.png', 'k.png', 'm.gif', 'n.avif', 'o.tiff']);
  assert.equal(report.pairs, used.length);
  assert.deepEqual(report.unpaired.sort(), ['clean/d.png', 'clean/z.jpg', 'degraded/c.png', 'degraded/f.jpg'].sort());
  assert.deepEqual(report.sizeMismatch, ['degraded/e.png']);
  assert.deepEqual(report.sizeMismatchDetails[0], { degraded: 'degraded/e.png', clean: 'clean/e.png', degradedSize: [W, H], cleanSize: [W + 8, H] });
  const unreadable = Object.fromEntries(report.unreadable.map((u) => [u.file, u.reason]));
  assert.deepEqual(Object.keys(unreadable).sort(), ['clean/z.jpg', 'degraded/f.jpg', 'degraded/f.png']);
  assert.match(unreadable['degraded/f.jpg']!, /premature end|truncat/i);
  assert.match(unreadable['degraded/f.png']!, /empty/);
  assert.match(unreadable['clean/z.jpg']!, /not an image|unsupported/i);
  assert.deepEqual(report.nonImages, ['clean/notes.txt']);
  const dupes = report.duplicates.map((g) => g.slice().sort().join(' '));
  assert.ok(dupes.includes('clean/a.png clean/g.png'));
  assert.ok(dupes.includes('degraded/a.png degraded/g.png'));
  const excluded = Object.fromEntries(report.use.excluded.map((e) => [e.id, e.reason]));
  assert.match(excluded['g.png']!, /duplicate/);
  assert.match(excluded['e.png']!, /sizes differ/);
  assert.match(excluded['f.png']!, /unreadable/);
  assert.match(excluded['t.png']!, /smaller than 64px/);
  assert.ok(report.tooSmall.includes('clean/t.png'));
  assert.deepEqual(report.conversions.exifRotated, ['clean/h.jpg']);
  assert.deepEqual(report.conversions.grayscale, ['clean/i.png']);
  assert.deepEqual(report.conversions.sixteenBit, ['clean/j.png']);
  assert.ok(report.conversions.alpha.includes('clean/k.png')); // GIFs decode with alpha too
  assert.deepEqual(report.conversions.multiFrame, ['clean/m.gif']);
  assert.match(report.summary, /Will use 9 pairs/);
  assert.equal(report.formats.heif, 1, 'AVIF decodes (libheif)');
});

test('`studio dataset check --json` prints one parseable line', async () => {
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'src/main/cli/index.ts', 'dataset', 'check', dir, '--json'], {
    cwd: join(import.meta.dirname, '../../..'),
  });
  const lines = stdout.trim().split('\n');
  assert.equal(lines.length, 1);
  const report = DatasetReportSchema.parse(JSON.parse(lines[0]!));
  for (const key of ['pairs', 'unpaired', 'sizeMismatch', 'unreadable', 'nonImages', 'duplicates']) assert.ok(key in report, key);
  assert.equal(report.pairs, 9);
});

test('decoding honours EXIF orientation', async () => {
  const bytes = await readFile(join(dir, 'clean', 'h.jpg'));
  const { image, notes } = await decodeImage(bytes);
  assert.equal(notes.orientation, 6);
  assert.equal(image.width, H);
  assert.equal(image.height, W);
  // The same JPEG pixels, rotated a quarter turn clockwise (what orientation 6 asks for).
  const stored = await sharp(bytes).raw().toBuffer({ resolveWithObject: true });
  assert.equal(stored.info.width, W);
  const expected = await sharp(stored.data, { raw: { width: W, height: H, channels: 3 } }).rotate(90).raw().toBuffer();
  assert.deepEqual(Buffer.from(image.data), expected);
});

test('decoding: grayscale → RGB, 16-bit kept, alpha on white', async () => {
  const gray = (await decodeImageFile(join(dir, 'clean', 'i.png'))).image;
  assert.equal(gray.data.length, W * H * 3);
  for (let p = 0; p < W * H; p += 97) {
    assert.equal(gray.data[p * 3], (p * 7) % 256);
    assert.equal(gray.data[p * 3 + 1], gray.data[p * 3]);
    assert.equal(gray.data[p * 3 + 2], gray.data[p * 3]);
  }
  const deep = (await decodeImageFile(join(dir, 'clean', 'j.png'))).image;
  assert.ok(deep.data instanceof Uint16Array);
  assert.equal(deep.scale, 1 / 65535);
  for (let i = 0; i < deep.data.length; i += 101) assert.equal(deep.data[i], (i * 997) % 65536);
  const alpha = (await decodeImageFile(join(dir, 'clean', 'k.png'))).image;
  assert.deepEqual([...alpha.data.subarray(0, 3)], [255, 255, 255]); // transparent → white
  const right = (W - 1) * 3;
  assert.deepEqual([...alpha.data.subarray(right, right + 3)], [10, 20, 30]); // opaque kept
  const gif = (await decodeImageFile(join(dir, 'clean', 'm.gif'))).image;
  assert.equal(gif.height, H); // first frame only
});

test('a folder of clean photos alone is a clean-only dataset', async () => {
  const { dir: flat, cleanup: done } = await tempDir();
  try {
    await writeRaw(join(flat, 'p1.png'), randomPixels(W, H, 1), W, H);
    await writeRaw(join(flat, 'sub', 'p2.jpg'), randomPixels(W, H, 2), W, H, 'jpeg');
    await writeFile(join(flat, 'readme.md'), '# photos');
    await writeFile(join(flat, '.DS_Store'), 'x');
    const scan = await scanDataset(flat);
    assert.equal(scan.dataset.kind, 'clean');
    assert.deepEqual(scan.dataset.items.map((i) => i.id), ['p1.png', 'sub/p2.jpg']);
    assert.deepEqual(scan.nonImages, ['readme.md']);
    const { report } = await checkDataset(flat);
    assert.equal(report.pairs, 2);
    assert.equal(report.use.synthesis, true);
  } finally {
    await done();
  }
});
