// Pause pressed at once after Start, over the real services and an in-process engine: the engine is still
// loading and timing the model, so the batch has no run id yet. The pause is kept and given to the run as it
// starts (the batch waits before its first tile), instead of being refused while the batch goes on.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { writeTestImage } from '../../helpers/fixtures';
import { saveTinyDenoiser, startStudio, until, type Studio } from './harness';

let studio: Studio;
let album: string;
before(async () => {
  studio = await startStudio();
  await saveTinyDenoiser(join(studio.home, 'models'));
  album = join(studio.home, 'album');
  await mkdir(album);
  for (let i = 0; i < 4; i++) await writeTestImage(join(album, `scan-${i}.png`), 800, 600, i + 1);
});
after(async () => {
  await studio.stop();
});

test('a pause sent before the batch has started pauses it, and resume lets it finish', async () => {
  const { useRestoreStore } = await import('../../../src/renderer/src/stores/restore');
  const restore = useRestoreStore();
  await restore.loadModels();
  await restore.openFolder(album);
  await restore.run();
  assert.equal(restore.error, null, restore.error ?? '');
  assert.equal(restore.start, null, 'the pause below goes out before the engine has said the batch started');
  await restore.pause();
  assert.equal(restore.error, null, `pausing before the start was refused: ${restore.error}`);

  await until(() => restore.paused || restore.done !== null, 'the batch to pause');
  const trail = restore.events.map((e) => e.type + ('phase' in e ? `:${String(e.phase)}` : '')).slice(0, 12);
  assert.ok(restore.paused, `the batch went on unpaused: ${JSON.stringify(trail)}`);
  const doneWhenPaused = restore.files.filter((f) => f.status === 'done').length;
  assert.ok(doneWhenPaused < 4, `${doneWhenPaused} of 4 photos were done before it paused`);
  // Paused means waiting: nothing more is finished while it stays paused.
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(restore.files.filter((f) => f.status === 'done').length, doneWhenPaused);

  await restore.resume();
  assert.equal(restore.error, null, restore.error ?? '');
  await until(() => restore.done !== null, 'the batch to finish');
  assert.equal(restore.files.filter((f) => f.status === 'done').length, 4);
  assert.equal(restore.done?.cancelled, false);
});
