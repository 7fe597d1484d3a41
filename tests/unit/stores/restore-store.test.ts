// The restore store over the real services: a batch's state stays with its folder. Opening another folder
// while a batch runs keeps that batch's progress on screen (and its controls working); once it has finished,
// opening another folder clears it; a folder's photos, subfolder count and scores belong to the folder open.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { writeTestImage } from '../../helpers/fixtures';
import { saveTinyDenoiser, startStudio, until, type Studio } from './harness';

let studio: Studio;
let first: string;
let second: string;
before(async () => {
  studio = await startStudio();
  await saveTinyDenoiser(join(studio.home, 'models'));
  first = join(studio.home, 'first');
  second = join(studio.home, 'second');
  for (const dir of [first, join(second, 'sub')]) await mkdir(dir, { recursive: true });
  for (let i = 0; i < 6; i++) await writeTestImage(join(first, `scan-${i}.png`), 1000, 750, i + 1);
  await writeTestImage(join(second, 'only.png'), 40, 30, 9);
  await writeTestImage(join(second, 'sub', 'deeper.png'), 40, 30, 10);
});
after(async () => {
  await studio.stop();
});

test('a running batch survives a folder change; a finished one is cleared by it', async () => {
  const { useRestoreStore } = await import('../../../src/renderer/src/stores/restore');
  const restore = useRestoreStore();
  await restore.loadModels();
  assert.equal(restore.options.model, 'tiny');
  await restore.openFolder(first);
  assert.equal(restore.error, null, restore.error ?? '');
  assert.deepEqual(restore.photos.map((p) => p.name).sort(), ['scan-0.png', 'scan-1.png', 'scan-2.png', 'scan-3.png', 'scan-4.png', 'scan-5.png']);

  await restore.run();
  assert.equal(restore.error, null, restore.error ?? '');
  await until(() => restore.progress !== null, 'the first tile');
  await restore.pause();
  await until(() => restore.paused || restore.done !== null, 'the batch to pause');
  assert.ok(restore.paused, JSON.stringify(restore.events.map((e) => e.type + ('phase' in e ? ':' + String(e.phase) : '')).slice(0, 12)) + ' paused before the first photo was done ');

  // Another folder while the batch runs: its photos are shown, the batch stays.
  await restore.openFolder(second);
  assert.equal(restore.folder, second);
  assert.deepEqual(restore.photos.map((p) => p.name), ['only.png']);
  assert.equal(restore.subfolders, 1);
  assert.ok(restore.job && restore.running, 'the running batch is still on screen');
  assert.equal(restore.start?.inputRoot, first);

  await restore.resume();
  await until(() => restore.done !== null, 'the batch to finish');
  assert.equal(restore.files.filter((f) => f.status === 'done').length, 6);
  assert.equal(restore.failed.length, 0);
  // Compare shows the first folder's originals beside their restorations, whichever folder is open now.
  const items = restore.compareItems();
  assert.equal(items.length, 6);
  assert.ok(items.every((i) => i.versions[0]!.path.startsWith(first + '/')));
  assert.equal((await readdir(`${first}-restored-tiny`)).filter((n) => n.endsWith('.png')).length, 6);

  // Once it has finished, opening a folder clears the old batch.
  await until(() => !restore.running, 'the job to end');
  await restore.openFolder(first);
  assert.equal(restore.job, null);
  assert.equal(restore.events.length, 0);
  assert.equal(restore.done, null);
  assert.equal(restore.subfolders, 0);
});
