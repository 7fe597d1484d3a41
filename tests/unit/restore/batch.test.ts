// The batch restore core: originals untouched, seams invisible, bad files reported while the batch goes on,
// resume / retry-failed / cancel / pause, out-of-memory retries with smaller tiles, clear errors for empty
// folders and unwritable outputs, and no tensors left behind.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import '@tensorflow/tfjs-backend-cpu';
import { chmod, mkdir, readdir, readFile, stat, utimes, writeFile } from 'node:fs/promises';
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { restoreBatch, type RestoreProgress } from '../../../src/main/engine/infer/batch';
import { Journal, JOURNAL_NAME } from '../../../src/main/engine/infer/journal';
import { wrapLayersModel, type RestoreModel } from '../../../src/main/engine/infer/model';
import { PauseGate } from '../../../src/main/engine/infer/pause';
import { decodePhoto } from '../../../src/main/engine/infer/photo';
import { StudioError } from '#shared/rpc/errors';
import { isAtomicTempName } from '../../../src/main/fs-atomic';
import { killedMidWrite } from '../../helpers/fixtures';
import { identityModel, mulberry32, residualModel, snapshot, tempDir, writePhoto } from './helpers';
import { useTestBackend } from '../../helpers/native';

let identity: RestoreModel;
let residual: RestoreModel;
const cleanups: (() => Promise<void>)[] = [];

before(async () => {
  await useTestBackend();
  identity = wrapLayersModel(identityModel(), { id: 'identity', name: 'identity', fingerprint: 'identity' });
  residual = wrapLayersModel(residualModel(), { id: 'residual', name: 'residual', fingerprint: 'residual' });
});

after(async () => {
  identity.dispose();
  residual.dispose();
  for (const c of cleanups) await c();
});

async function workspace(): Promise<string> {
  const t = await tempDir();
  cleanups.push(t.cleanup);
  return t.dir;
}

/** A folder of small photos: a.png, b.jpg, c.png and sub/d.png. */
async function photoFolder(root: string): Promise<string> {
  const dir = join(root, 'photos');
  await writePhoto(join(dir, 'a.png'), 96, 64, { seed: 1 });
  await writePhoto(join(dir, 'b.jpg'), 80, 80, { seed: 2, format: 'jpeg' });
  await writePhoto(join(dir, 'c.png'), 50, 70, { seed: 3 });
  await writePhoto(join(dir, 'sub', 'd.png'), 40, 30, { seed: 4 });
  return dir;
}

function maxDiff255(a: Uint8Array | Uint16Array, b: Uint8Array | Uint16Array): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
  return worst;
}

test('originals are never written; outputs mirror subfolders; the output folder inside the input is not scanned', async () => {
  const root = await workspace();
  const input = await photoFolder(root);
  const out = join(input, 'restored'); // inside the input folder, on purpose
  const before = await snapshot(input);
  const first = await restoreBatch({ input, out, model: residual, recursive: true });
  assert.equal(first.done, 4);
  assert.deepEqual(first.failed, []);
  // A second run must not pick up restored/ as input, and skips everything.
  const second = await restoreBatch({ input, out, model: residual, recursive: true });
  assert.equal(second.done, 0);
  assert.equal(second.skipped, 4);
  const after = await snapshot(input);
  for (const [file, hash] of before) assert.equal(after.get(file), hash, `${file} unchanged (content and mtime)`);
  const outputs = [...after.keys()].filter((f) => f.startsWith('restored/') && !f.split('/').pop()!.startsWith('.')).sort();
  assert.deepEqual(outputs, ['restored/a.png', 'restored/b.jpg', 'restored/c.png', 'restored/sub/d.png']);
  for (const f of outputs) {
    const photo = await decodePhoto(await readFile(join(input, f)));
    assert.ok(photo.width > 0, `${f} decodes`);
  }
  // Default output folder: a sibling named <input>-restored.
  const single = await restoreBatch({ input: join(input, 'a.png'), model: identity });
  assert.equal(single.out, join(root, 'photos-restored'));
  assert.equal(single.done, 1);
  await assert.rejects(restoreBatch({ input, out: input, model: identity }), (e: StudioError) => e.code === 'BAD_INPUT' && /cannot be the input folder/.test(e.message));
});

test('tiled output equals whole-image output within 1/255 through the restore path', async () => {
  const root = await workspace();
  const input = join(root, 'in');
  await writePhoto(join(input, 'big.png'), 301, 217, { seed: 9 });
  // A pooling network (needs multiples of 4) as well as the residual CNN.
  const x = tfl.input({ shape: [null, null, 3] });
  let h = tfl.layers.conv2d({ filters: 6, kernelSize: 3, padding: 'same', activation: 'relu' }).apply(x) as tfl.SymbolicTensor;
  h = tfl.layers.maxPooling2d({ poolSize: 2 }).apply(h) as tfl.SymbolicTensor;
  h = tfl.layers.maxPooling2d({ poolSize: 2 }).apply(h) as tfl.SymbolicTensor;
  h = tfl.layers.upSampling2d({ size: [4, 4] }).apply(h) as tfl.SymbolicTensor;
  h = tfl.layers.conv2d({ filters: 3, kernelSize: 3, padding: 'same' }).apply(h) as tfl.SymbolicTensor;
  const pooling = tfl.model({ inputs: x, outputs: tfl.layers.add().apply([x, h]) as tfl.SymbolicTensor });
  const rand = mulberry32(3);
  pooling.setWeights(pooling.getWeights().map((w) => tf.tensor(Float32Array.from({ length: w.size }, () => (rand() - 0.5) * 0.3), w.shape)));
  const poolingModel = wrapLayersModel(pooling, { id: 'pool', name: 'pool', fingerprint: 'pool' });
  assert.equal(poolingModel.multiple, 4);
  try {
    for (const model of [residual, poolingModel]) {
      const whole = await restoreBatch({ input, out: join(root, `${model.id}-whole`), model, tile: 1024 });
      const tiled = await restoreBatch({ input, out: join(root, `${model.id}-tiled`), model, tile: 64 });
      assert.equal(whole.done + tiled.done, 2);
      const a = await decodePhoto(await readFile(join(root, `${model.id}-whole`, 'big.png')));
      const b = await decodePhoto(await readFile(join(root, `${model.id}-tiled`, 'big.png')));
      const original = await decodePhoto(await readFile(join(input, 'big.png')));
      assert.ok(maxDiff255(a.pixels, original.pixels) > 2, `${model.id} changes the image (the comparison means something)`);
      assert.ok(maxDiff255(a.pixels, b.pixels) <= 1, `${model.id}: tiled differs from whole by ${maxDiff255(a.pixels, b.pixels)}/255`);
    }
  } finally {
    poolingModel.dispose();
  }
});

test('a corrupt file in the middle is reported by name with a reason, and the batch goes on; --retry-failed retries only it', async () => {
  const root = await workspace();
  const input = join(root, 'in');
  await writePhoto(join(input, '1.png'), 40, 40, { seed: 1 });
  await mkdir(input, { recursive: true });
  const good = await readFile(join(input, '1.png'));
  await writeFile(join(input, '2-truncated.png'), good.subarray(0, Math.floor(good.length / 2)));
  await writeFile(join(input, '3-text.jpg'), 'this is not a photo\n');
  await writeFile(join(input, '4-empty.png'), '');
  await writePhoto(join(input, '5.png'), 40, 40, { seed: 5 });
  const out = join(root, 'out');
  const summary = await restoreBatch({ input, out, model: identity });
  assert.equal(summary.done, 2);
  assert.deepEqual(
    summary.failed.map((f) => f.file),
    ['2-truncated.png', '3-text.jpg', '4-empty.png'],
  );
  for (const f of summary.failed) assert.ok(f.reason.length > 5, `${f.file} has a reason: ${f.reason}`);
  assert.match(summary.failed[1]!.reason, /not an image/);
  assert.match(summary.failed[2]!.reason, /empty/);
  assert.deepEqual((await readdir(out)).filter((n) => !n.startsWith('.')).sort(), ['1.png', '5.png']);

  // Fix one file and retry only the failed ones: the good ones are not redone.
  await writeFile(join(input, '3-text.jpg'), await readFile(join(input, '5.png')));
  const retry = await restoreBatch({ input, out, model: identity, retryFailed: true });
  assert.equal(retry.done, 1);
  assert.equal(retry.skipped, 2);
  assert.deepEqual(retry.failed.map((f) => f.file), ['2-truncated.png', '4-empty.png']);
  assert.ok((await stat(join(out, '3-text.jpg'))).size > 0);
});

test('a rerun redoes a file whose input changed or whose output was deleted', async () => {
  const root = await workspace();
  const input = await photoFolder(root);
  const out = join(root, 'out');
  await restoreBatch({ input, out, model: identity });
  await utimes(join(input, 'a.png'), new Date(), new Date(Date.now() + 5000));
  const { unlink } = await import('node:fs/promises');
  await unlink(join(out, 'c.png'));
  const rerun = await restoreBatch({ input, out, model: identity });
  assert.deepEqual(rerun.files.filter((f) => f.status === 'done').map((f) => f.file).sort(), ['a.png', 'c.png']);
  assert.equal(rerun.skipped, 1);
  // Another model: its outputs are not the same outputs, everything is redone.
  const other = await restoreBatch({ input, out, model: residual });
  assert.equal(other.done, 3);
});

test('cancel stops between tiles without leaving a partial output; the rerun resumes', async () => {
  const root = await workspace();
  const input = join(root, 'in');
  for (let i = 0; i < 4; i++) await writePhoto(join(input, `${i}.png`), 200, 150, { seed: i });
  const out = join(root, 'out');
  const controller = new AbortController();
  let tilesSeen = 0;
  const summary = await restoreBatch(
    { input, out, model: residual, tile: 64 },
    {
      signal: controller.signal,
      onProgress: (p) => {
        if (p.index === 2 && p.fileFraction > 0 && ++tilesSeen === 2) controller.abort();
      },
    },
  );
  assert.equal(summary.cancelled, true);
  assert.equal(summary.done, 1);
  const names = (await readdir(out)).sort();
  assert.deepEqual(names.filter((n) => !n.startsWith('.')), ['0.png'], 'no output for the interrupted file');
  assert.ok(!names.some((n) => isAtomicTempName(n)), 'no temporary files');
  assert.ok(!names.includes('.studio-restore.lock'), 'lock released');
  const resumed = await restoreBatch({ input, out, model: residual, tile: 64 });
  assert.equal(resumed.skipped, 1);
  assert.equal(resumed.done, 3);
});

test('pause holds the batch before the next tile until resumed', async () => {
  const root = await workspace();
  const input = await photoFolder(root);
  const out = join(root, 'out');
  const gate = new PauseGate();
  gate.pause();
  const phases: RestoreProgress['phase'][] = [];
  const running = restoreBatch({ input, out, model: identity }, { pause: gate, onProgress: (p) => phases.push(p.phase) });
  await new Promise((r) => setTimeout(r, 300));
  assert.ok(phases.includes('paused'), 'reported as paused');
  assert.deepEqual((await readdir(out)).filter((n) => !n.startsWith('.')), [], 'nothing written while paused');
  gate.resume();
  const summary = await running;
  assert.equal(summary.done, 3);
  // Cancelling while paused ends the wait.
  const gate2 = new PauseGate();
  gate2.pause();
  const controller = new AbortController();
  const cancelled = restoreBatch({ input, out: join(root, 'out2'), model: identity }, { pause: gate2, signal: controller.signal });
  setTimeout(() => controller.abort(), 100);
  assert.equal((await cancelled).cancelled, true);
});

test('an out-of-memory error restarts the image with smaller tiles; below 128 pixels the file fails and the batch goes on', async () => {
  const root = await workspace();
  const input = join(root, 'in');
  await writePhoto(join(input, 'a.png'), 300, 200, { seed: 1 });
  await writePhoto(join(input, 'b.png'), 300, 200, { seed: 2 });
  const limited = (limit: number): RestoreModel => ({
    id: `oom-${limit}`,
    name: 'oom',
    fingerprint: `oom-${limit}`,
    run: (x) => {
      if (x.shape[1] > limit || x.shape[2] > limit) throw new RangeError('Array buffer allocation failed');
      return tf.clone(x);
    },
    multiple: 1,
    receptiveRadius: 2,
    bytesPerPixel: 100,
    fixedSize: null,
    dispose: () => {},
  });
  const summary = await restoreBatch({ input, out: join(root, 'out'), model: limited(140), tile: 512 });
  assert.equal(summary.done, 2);
  const done = summary.files.filter((f) => f.status === 'done');
  assert.deepEqual(done.map((f) => (f.status === 'done' ? [f.tile, f.retries] : null)), [[128, 2], [128, 2]]);
  const out = await decodePhoto(await readFile(join(root, 'out', 'a.png')));
  const original = await decodePhoto(await readFile(join(input, 'a.png')));
  assert.equal(maxDiff255(out.pixels, original.pixels), 0);
  const hopeless = await restoreBatch({ input, out: join(root, 'out2'), model: limited(50), tile: 512 });
  assert.equal(hopeless.done, 0);
  assert.equal(hopeless.failed.length, 2);
  assert.match(hopeless.failed[0]!.reason, /out of memory even with 128-pixel tiles/);
});

test('a folder without images is a clear error and creates nothing', async () => {
  const root = await workspace();
  const input = join(root, 'empty');
  await mkdir(join(input, 'sub'), { recursive: true });
  await writeFile(join(input, 'notes.txt'), 'no photos here');
  await writeFile(join(input, 'sub', 'x.png'), 'not reached without --recursive');
  await assert.rejects(restoreBatch({ input, model: identity }), (e: StudioError) => {
    assert.equal(e.code, 'NOT_FOUND');
    assert.match(e.message, /No images found in .*empty/);
    assert.match(e.message, /--recursive/);
    return true;
  });
  await assert.rejects(stat(join(root, 'empty-restored')), 'no output folder was created');
});

test('an unwritable output folder is a clear error', async () => {
  const root = await workspace();
  const input = await photoFolder(root);
  // Works as root too: a regular file where a parent folder should be.
  await writeFile(join(root, 'a-file'), 'x');
  await assert.rejects(restoreBatch({ input, out: join(root, 'a-file', 'out'), model: identity }), (e: StudioError) => {
    assert.equal(e.code, 'OUTPUT_UNWRITABLE');
    assert.match(e.message, /Cannot write to the output folder .*a-file/);
    return true;
  });
  const isRoot = process.getuid?.() === 0;
  if (!isRoot) {
    const locked = join(root, 'locked');
    await mkdir(locked, { mode: 0o500 });
    await chmod(locked, 0o500);
    await assert.rejects(restoreBatch({ input, out: join(locked, 'out'), model: identity }), (e: StudioError) => e.code === 'OUTPUT_UNWRITABLE' && /permission denied/.test(e.message));
  }
});

// A read-only disk needs a read-only mount: root can make one (tmpfs), others cannot, and the test says so.
const readOnlyDisk = (() => {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return null;
  const dir = mkdtempSync(join(tmpdir(), 'studio-readonly-'));
  const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=1m', 'tmpfs', dir]).status === 0;
  return mounted ? dir : null;
})();
after(() => {
  if (readOnlyDisk) spawnSync('umount', [readOnlyDisk]);
});

test('an output folder to be made on a read-only disk says the disk is read-only', { skip: !readOnlyDisk && 'mounting a read-only disk needs root on Linux' }, async () => {
  const root = await workspace();
  const input = await photoFolder(root);
  await assert.rejects(restoreBatch({ input, out: join(readOnlyDisk!, 'restored', 'sub'), model: identity }), (e: StudioError) => {
    assert.equal(e.code, 'OUTPUT_UNWRITABLE');
    assert.match(e.message, /the disk is read-only/);
    assert.doesNotMatch(e.message, /ENOENT|mkdir/);
    return true;
  });
});

test('no tensors are left behind, file after file', async () => {
  const root = await workspace();
  const input = join(root, 'in');
  for (let i = 0; i < 6; i++) await writePhoto(join(input, `${i}.png`), 70 + i * 13, 90 - i * 7, { seed: i });
  const start = tf.memory().numTensors;
  const counts: number[] = [];
  const summary = await restoreBatch({ input, out: join(root, 'out'), model: residual, tile: 64 }, { onFile: () => counts.push(tf.memory().numTensors) });
  assert.equal(summary.done, 6);
  assert.deepEqual(counts, counts.map(() => start));
});

test('a file already in the output folder that a restore did not write is never replaced', async () => {
  const root = await workspace();
  const input = await photoFolder(root);
  const out = join(root, 'shared');
  await mkdir(out);
  await writeFile(join(out, 'a.png'), 'the only copy of something precious');
  const summary = await restoreBatch({ input, out, model: identity });
  assert.equal(summary.done, 2);
  assert.deepEqual(summary.failed.map((f) => f.file), ['a.png']);
  assert.match(summary.failed[0]!.reason, /already exists in the output folder/);
  assert.equal(await readFile(join(out, 'a.png'), 'utf8'), 'the only copy of something precious');
  // Its own outputs are replaced when they have to be redone (here: another model).
  const redo = await restoreBatch({ input, out, model: residual });
  assert.equal(redo.done, 2);
  assert.equal(await readFile(join(out, 'a.png'), 'utf8'), 'the only copy of something precious');
});

test('an output folder that contains the input folder: nothing inside the input is touched', async () => {
  const root = await workspace();
  const input = await photoFolder(root);
  // Real leftovers of writes killed mid-way: one in the input folder (never touched), one in the output folder.
  const inInput = await killedMidWrite(join(input, 'a.png'));
  const inOutput = await killedMidWrite(join(root, 'b.jpg'));
  assert.ok(isAtomicTempName(inInput) && isAtomicTempName(inOutput), `${inInput} and ${inOutput} are temporary names`);
  const before = await snapshot(input);
  const summary = await restoreBatch({ input, out: root, model: identity, recursive: true });
  assert.equal(summary.done, 4, JSON.stringify(summary.files));
  assert.ok((await stat(join(root, 'sub', 'd.png'))).isFile());
  assert.deepEqual([...(await snapshot(input)).entries()], [...before.entries()]);
  assert.deepEqual((await readdir(root)).filter((n) => isAtomicTempName(n)), [], 'stale temporary files in the output folder are removed');
  assert.ok((await readdir(input)).includes(inInput), 'the one inside the input folder is left alone');
});

test('outputs whose names would collide get distinct names', async () => {
  const root = await workspace();
  const input = join(root, 'in');
  await writePhoto(join(input, 'x.png'), 20, 20, { seed: 1 });
  await writePhoto(join(input, 'x.tif'), 20, 20, { seed: 2, format: 'tiff' });
  await writePhoto(join(input, 'x.webp'), 20, 20, { seed: 3, format: 'webp' });
  const summary = await restoreBatch({ input, out: join(root, 'out'), model: identity, format: 'png' });
  assert.equal(summary.done, 3);
  assert.deepEqual((await readdir(join(root, 'out'))).filter((n) => !n.startsWith('.')).sort(), ['x-tif.png', 'x-webp.png', 'x.png']);
});

test('the journal ignores a line torn by a crash and appends after it', async () => {
  const root = await workspace();
  const record = { v: 1, event: 'done', input: '/x/a.png', file: 'a.png', size: 1, mtimeMs: 2, output: 'a.png', outputSize: 3, settings: 's', megapixels: 0, seconds: 0, tile: 64, at: '' };
  await writeFile(join(root, JOURNAL_NAME), JSON.stringify(record) + '\n{"v":1,"event":"done","inp');
  const journal = await Journal.open(root);
  assert.equal(journal.last('/x/a.png')?.event, 'done');
  await journal.append({ ...record, input: '/x/b.png', file: 'b.png' } as never);
  await journal.close();
  const reopened = await Journal.open(root);
  assert.equal(reopened.records().length, 2);
  await reopened.close();
});
