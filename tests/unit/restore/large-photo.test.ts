// Large photos are restored from disk (large-photo.ts): decoded once to a scratch folder beside the output,
// read a tile at a time, written as strips composited over the original. The written file must be the one
// the in-memory path writes, pixel for pixel, for every kind of photo (8 and 16 bits, grayscale, alpha kept
// or flattened, EXIF rotation, an upscaler), the scratch folder must go away, a killed run's scratch is
// removed by the next, and a photo far larger than a tile restores in memory bounded by the tile.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as tfl from '@tensorflow/tfjs-layers';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { loadRestoreModel, type RestoreModel } from '../../../src/main/engine/infer/model';
import { disposePhoto, readPhoto, type OutputFormat } from '../../../src/main/engine/infer/photo';
import { restorePhoto } from '../../../src/main/engine/infer/restore-image';
import { restoreBatch } from '../../../src/main/engine/infer/batch';
import { isAtomicTempName } from '../../../src/main/fs-atomic';
import { fitBand, peakRestoreBytes, planTiles } from '../../../src/main/engine/infer/memory';
import { photoPixels, residualModel, saveModelFolder, tempDir } from './helpers';
import { MARKER_DIR } from '../../../src/main/queue/jobs';
import { ModelCache, processRestoreJob } from '../../../src/main/queue/worker';
import { useTestBackend } from '../../helpers/native';

let root: string;
let cleanup: () => Promise<void>;
let restorer: RestoreModel;
let upscaler: RestoreModel;

/** x2: nearest-neighbour enlargement plus a small conv (a real upscaler's shape, tiny). */
function upscalerModel(): tfl.LayersModel {
  const x = tfl.input({ shape: [null, null, 3] });
  const up = tfl.layers.upSampling2d({ size: [2, 2] }).apply(x) as tfl.SymbolicTensor;
  const h = tfl.layers.conv2d({ filters: 3, kernelSize: 3, padding: 'same', kernelInitializer: 'glorotUniform', biasInitializer: 'zeros' }).apply(up) as tfl.SymbolicTensor;
  const scaled = tfl.layers.rescaling({ scale: 0.05 }).apply(h) as tfl.SymbolicTensor;
  return tfl.model({ inputs: x, outputs: tfl.layers.add().apply([up, scaled]) as tfl.SymbolicTensor });
}

before(async () => {
  await useTestBackend();
  ({ dir: root, cleanup } = await tempDir('studio-large-photo-'));
  await saveModelFolder(residualModel(5), join(root, 'restorer'));
  await saveModelFolder(upscalerModel(), join(root, 'upscaler'));
  restorer = await loadRestoreModel(join(root, 'restorer'));
  upscaler = await loadRestoreModel(join(root, 'upscaler'));
});

after(async () => {
  restorer.dispose();
  upscaler.dispose();
  await cleanup();
});

interface Case {
  name: string;
  file: string;
  format: OutputFormat;
  make: (path: string) => Promise<void>;
  model?: () => RestoreModel;
}

const W = 203;
const H = 157;
const raw = (channels: number, sixteenBit = false, seed = 1): { data: Buffer; raw: { width: number; height: number; channels: 1 | 2 | 3 | 4 } } => {
  const px = photoPixels(W, H, channels, seed, sixteenBit);
  return { data: Buffer.from(px.buffer, px.byteOffset, px.byteLength), raw: { width: W, height: H, channels: channels as 1 | 2 | 3 | 4 } };
};

const CASES: Case[] = [
  { name: '8-bit RGB PNG', file: 'rgb.png', format: 'png', make: (p) => sharp(raw(3).data, { raw: raw(3).raw }).png().toFile(p).then(() => {}) },
  {
    name: '16-bit RGB PNG',
    file: 'rgb16.png',
    format: 'png',
    make: (p) => sharp(raw(3, true).data, { raw: raw(3, true).raw as never }).toColourspace('rgb16').png().toFile(p).then(() => {}),
  },
  {
    name: '16-bit RGBA PNG, alpha kept',
    file: 'rgba16.png',
    format: 'png',
    make: (p) => sharp(raw(4, true, 4).data, { raw: raw(4, true, 4).raw as never }).toColourspace('rgb16').png().toFile(p).then(() => {}),
  },
  {
    name: 'grayscale JPEG with EXIF rotation',
    file: 'gray.jpg',
    format: 'jpeg',
    make: (p) => sharp(raw(1).data, { raw: raw(1).raw }).toColourspace('b-w').withMetadata({ orientation: 6 }).jpeg({ quality: 92 }).toFile(p).then(() => {}),
  },
  { name: 'RGBA PNG, alpha kept', file: 'rgba.png', format: 'png', make: (p) => sharp(raw(4).data, { raw: raw(4).raw }).png().toFile(p).then(() => {}) },
  { name: 'RGBA to JPEG, alpha flattened', file: 'flat.png', format: 'jpeg', make: (p) => sharp(raw(4, false, 2).data, { raw: raw(4, false, 2).raw }).png().toFile(p).then(() => {}) },
  { name: '2x upscale of RGBA', file: 'up.png', format: 'png', make: (p) => sharp(raw(4, false, 3).data, { raw: raw(4, false, 3).raw }).png().toFile(p).then(() => {}), model: () => upscaler },
];

async function encodeWith(path: string, format: OutputFormat, model: RestoreModel, large: boolean): Promise<{ bytes: Buffer; scratch: string[] }> {
  const out = join(root, large ? 'large' : 'memory', `${format}-${path.split('/').pop()}`);
  await mkdir(join(out, '..'), { recursive: true });
  // largeMegapixels 0 sends even this small photo down the disk path; tiles of 64 make several bands, and
  // strips of 40 rows are not aligned with them (the last is shorter).
  const photo = await readPhoto(path, { scratchFor: out, largeMegapixels: large ? 0 : Infinity, stripRows: 40 });
  assert.equal(Boolean(photo.disk), large);
  try {
    const { restored } = await restorePhoto(model, photo, format, { tile: 64, tone: { strength: 0.5 } });
    return { bytes: await restored.encode(90), scratch: (await readdir(join(out, '..'))).filter(isAtomicTempName) };
  } finally {
    await disposePhoto(photo);
  }
}

for (const c of CASES) {
  test(`${c.name}: restored from disk, the file is the in-memory path's, pixel for pixel, with its metadata`, async () => {
    const input = join(root, 'in', c.file);
    await mkdir(join(root, 'in'), { recursive: true });
    await c.make(input);
    const model = c.model?.() ?? restorer;
    const memory = await encodeWith(input, c.format, model, false);
    const disk = await encodeWith(input, c.format, model, true);
    assert.ok(disk.scratch.length > 0, 'the scratch folder sat beside the output while the photo was restored');
    const [a, b] = await Promise.all([sharp(memory.bytes).raw({ depth: 'ushort' }).toBuffer({ resolveWithObject: true }), sharp(disk.bytes).raw({ depth: 'ushort' }).toBuffer({ resolveWithObject: true })]);
    assert.deepEqual(b.info, a.info);
    const ma = await sharp(memory.bytes).metadata();
    const mb = await sharp(disk.bytes).metadata();
    assert.equal(mb.orientation, ma.orientation);
    assert.equal(mb.depth, ma.depth);
    assert.equal(mb.channels, ma.channels);
    let worst = 0;
    for (let i = 0; i < a.data.length; i += 2) worst = Math.max(worst, Math.abs(a.data.readUInt16LE(i) - b.data.readUInt16LE(i)));
    // Identical (16-bit alpha written as 8 bits would be libvips' rounding, off by one level: not a case here).
    assert.equal(worst, 0, 'largest difference between the two paths');
    assert.deepEqual((await readdir(join(root, 'large'))).filter(isAtomicTempName), [], 'the scratch folder is removed');
  });
}

test("a batch removes a killed run's scratch folder and restores the photo", async () => {
  const input = join(root, 'batch-in');
  const out = join(root, 'batch-out');
  await mkdir(input, { recursive: true });
  await sharp(raw(3).data, { raw: raw(3).raw }).png().toFile(join(input, 'a.png'));
  const stale = join(out, `.a.png.tmp-999999-0badcafe`);
  await mkdir(stale, { recursive: true });
  await writeFile(join(stale, 'decoded.v'), Buffer.alloc(1024));
  let memoryMegabytes = 0;
  const summary = await restoreBatch({ input, out, model: restorer }, { onStart: (start) => (memoryMegabytes = start.memoryMegabytes) });
  assert.equal(summary.done, 1);
  // Said before the batch starts, counting what the process already holds (the runtime, the model): a number
  // to compare with what the system monitor shows.
  assert.ok(memoryMegabytes * 1024 ** 2 > process.memoryUsage().rss * 0.8, `${memoryMegabytes} MB said, ${(process.memoryUsage().rss / 1024 ** 2).toFixed(0)} MB resident`);
  assert.deepEqual((await readdir(out)).filter(isAtomicTempName), [], 'the stale scratch folder is gone');
});

/** Runs `body` with photos of every size restored from disk (STUDIO_LARGE_PHOTO_MP=0). */
async function allFromDisk<T>(body: () => Promise<T>): Promise<T> {
  process.env.STUDIO_LARGE_PHOTO_MP = '0';
  try {
    return await body();
  } finally {
    delete process.env.STUDIO_LARGE_PHOTO_MP;
  }
}

test('a batch and a queue worker write a large photo straight to its file: the same file as the in-memory path, no temporaries left', async () => {
  const input = join(root, 'both-in');
  await mkdir(input, { recursive: true });
  await sharp(raw(3, false, 7).data, { raw: raw(3, false, 7).raw }).jpeg({ quality: 90 }).toFile(join(input, 'a.jpg'));
  await sharp(raw(4, false, 8).data, { raw: raw(4, false, 8).raw }).png().toFile(join(input, 'b.png'));
  const memory = await restoreBatch({ input, out: join(root, 'both-memory'), model: restorer, tile: 64 });
  const disk = await allFromDisk(() => restoreBatch({ input, out: join(root, 'both-disk'), model: restorer, tile: 64 }));
  assert.equal(memory.done, 2);
  assert.equal(disk.done, 2, JSON.stringify(disk.failed));
  // Pixels, not bytes: a large JPEG is written without optimised Huffman tables (same pixels, other bytes).
  const pixels = (path: string): Promise<Buffer> => sharp(path).raw().toBuffer();
  for (const name of ['a.jpg', 'b.png']) {
    assert.deepEqual(await pixels(join(root, 'both-disk', name)), await pixels(join(root, 'both-memory', name)), `${name} from disk`);
  }
  assert.deepEqual((await readdir(join(root, 'both-disk'))).filter(isAtomicTempName), []);

  const models = new ModelCache();
  try {
    const job = { root: input, file: 'b.png', out: join(root, 'both-worker'), output: 'b.png', model: join(root, 'restorer'), fingerprint: (await models.get(join(root, 'restorer'))).fingerprint, format: 'png', quality: 90 };
    const result = await allFromDisk(() => processRestoreJob('plarge', job, models));
    assert.equal(result.alreadyDone, false);
    const written = await readFile(join(root, 'both-worker', 'b.png'));
    const memoryJob = await processRestoreJob('pmemory', { ...job, out: join(root, 'both-worker-memory') }, models);
    assert.deepEqual(written, await readFile(memoryJob.output), 'the worker wrote the same file from disk');
    const marker = JSON.parse(await readFile(join(root, 'both-worker', MARKER_DIR, 'plarge.json'), 'utf8')) as { state: string; outputSize: number; outputHash: string };
    assert.equal(marker.state, 'done');
    assert.equal(marker.outputSize, written.length);
    assert.equal(marker.outputHash, createHash('sha256').update(written).digest('hex'), "the marker names the file's bytes");
    assert.deepEqual((await readdir(join(root, 'both-worker'))).filter(isAtomicTempName), []);
  } finally {
    await models.dispose();
  }
});

test('the memory said up front grows with a held photo, and with the band (not the photo) past the large-photo size', () => {
  const plan = (width: number): ReturnType<typeof planTiles> => fitBand(planTiles(restorer, 1024), restorer, width);
  const mb = (w: number, h: number): number => peakRestoreBytes(w, h, plan(w), restorer) / 1024 ** 2;
  // 24 MP held whole: at least its decoded and restored copies.
  assert.ok(mb(6000, 4000) >= (6000 * 4000 * 3 * 2) / 1024 ** 2);
  // 256 MP from disk: less than one 8-bit copy of it (768 MB; held whole it took 2.4 GB), as much as a
  // photo of the same width four times shorter.
  assert.ok(mb(16000, 16000) < (16000 * 16000 * 3) / 1024 ** 2, `${mb(16000, 16000).toFixed(0)} MB`);
  assert.ok(Math.abs(mb(16000, 16000) - mb(16000, 4001)) < 1, 'a taller photo of the same width costs the same');
});

test('a photo far larger than a tile restores in memory bounded by the tile, not the photo', { timeout: 600_000 }, async () => {
  // A child process restores a 24500x2000 photo (49 MP: 140 MB decoded and 140 MB restored, which the
  // in-memory path holds whole) with 256-pixel tiles. What it holds outside V8's heap while restoring (pixels,
  // tiles, tensors on the cpu backend, sharp's buffers: live external memory, which counts array buffers,
  // sampled as it goes) must stay under half a band of float tiles across the width (what a band-at-a-time
  // restore held: 24500 x 256 x 3 floats, three times, 215 MB), with the file encoded straight to disk. What
  // is left grows with the width only as an 8-bit strip (18 MB here) and the overlap rows. Not covered:
  // libvips' allocator arenas, which glibc keeps in resident memory.
  const big = join(root, 'big');
  await mkdir(big, { recursive: true });
  await sharp({ create: { width: 24500, height: 2000, channels: 3, background: { r: 120, g: 90, b: 60 } } })
    .png({ compressionLevel: 1 })
    .toFile(join(big, 'big.png'));
  const script = `
    import { readPhoto, disposePhoto } from ${JSON.stringify(join(process.cwd(), 'src/main/engine/infer/photo.ts'))};
    import { restorePhoto } from ${JSON.stringify(join(process.cwd(), 'src/main/engine/infer/restore-image.ts'))};
    import { loadRestoreModel } from ${JSON.stringify(join(process.cwd(), 'src/main/engine/infer/model.ts'))};
    import { initBackend } from ${JSON.stringify(join(process.cwd(), 'src/main/engine/backend.ts'))};
    await initBackend(process.env.STUDIO_TEST_BACKEND ?? 'cpu');
    const model = await loadRestoreModel(${JSON.stringify(join(root, 'restorer'))});
    const photo = await readPhoto(process.argv[2], { scratchFor: process.argv[2] + '.out.png' });
    let peak = 0;
    let calls = 0;
    // Live memory: garbage collected first (sharp's dead buffers would count until V8 gets to them).
    const held = () => { if (calls++ % 40 !== 0) return; globalThis.gc(); const m = process.memoryUsage(); peak = Math.max(peak, m.external / 1024 ** 2); };
    const { restored } = await restorePhoto(model, photo, 'png', { tile: 256, onProgress: held });
    calls = 0;
    held();
    await restored.encodeToFile(process.argv[2] + '.out.png', 90);
    calls = 0;
    held();
    await disposePhoto(photo);
    const { statSync } = await import('node:fs');
    console.log(JSON.stringify({ disk: Boolean(photo.disk), bytes: statSync(process.argv[2] + '.out.png').size, heldMB: peak, maxRssMB: process.resourceUsage().maxRSS / 1024 }));
  `;
  const scriptPath = join(big, 'run.mts');
  await writeFile(scriptPath, script);
  const run = (file: string): { disk: boolean; bytes: number; heldMB: number; maxRssMB: number } => {
    const r = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', scriptPath, join(big, file)], { encoding: 'utf8', env: { ...process.env } });
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout.trim().split('\n').pop()!) as { disk: boolean; bytes: number; heldMB: number; maxRssMB: number };
  };
  const large = run('big.png');
  assert.equal(large.disk, true, 'a 49 MP photo goes down the disk path');
  assert.ok(large.bytes > 0);
  const onePhotoMB = (24500 * 2000 * 3) / 1024 ** 2;
  const floatBandsMB = (24500 * 256 * 3 * 4 * 3) / 1024 ** 2;
  const detail = `held ${large.heldMB.toFixed(0)} MB at most for a photo of ${onePhotoMB.toFixed(0)} MB, float bands ${floatBandsMB.toFixed(0)} MB (file ${(large.bytes / 1024 ** 2).toFixed(0)} MB, peak resident ${large.maxRssMB.toFixed(0)} MB)`;
  console.log(detail);
  assert.ok(large.heldMB < floatBandsMB / 2, detail);
});
