// The models store over the real services: importing a model package lists and selects it (a second import
// of the same name gets a number, not a twin), and deleting it takes it off the list and off the screen.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { saveTinyDenoiser, startStudio, type Studio } from './harness';

let studio: Studio;
let source: string;
before(async () => {
  studio = await startStudio();
  // A package outside the models folder, as a user would have downloaded it.
  source = await saveTinyDenoiser(join(studio.home, 'incoming'));
});
after(async () => {
  await studio.stop();
});

test('import lists and selects the model; a second of the same name is numbered; delete removes it', async () => {
  const { useModelsStore } = await import('../../../src/renderer/src/stores/models');
  const models = useModelsStore();
  await models.load();
  assert.equal(models.error, null);
  const before = models.list.length;

  await models.importFrom(source);
  assert.equal(models.error, null, models.error ?? '');
  assert.equal(models.list.length, before + 1);
  assert.equal(models.selected?.card.name, 'Tiny denoiser');
  assert.equal(models.notice, 'Imported “Tiny denoiser”.');
  const first = models.selected!.id;

  await models.importFrom(source);
  assert.equal(models.error, null, models.error ?? '');
  assert.equal(models.list.length, before + 2);
  assert.equal(models.selected?.card.name, 'Tiny denoiser (2)');
  assert.match(models.notice ?? '', /as “Tiny denoiser \(2\)”/);
  const second = models.selected!.id;
  assert.notEqual(second, first);

  await models.remove(second);
  assert.equal(models.error, null, models.error ?? '');
  assert.equal(models.selected, null, 'the deleted model is not left on screen');
  assert.deepEqual(models.list.filter((m) => m.id === second), []);
  assert.equal(models.notice, 'Deleted “Tiny denoiser (2)”.');
  assert.ok(!(await readdir(join(studio.home, 'models'))).includes(second), 'its folder is gone');
  assert.equal(models.list.length, before + 1);

  // A source that is not a model is an error in words, and the list stays as it was.
  await models.importFrom(join(studio.home, 'nothing-here'));
  assert.ok(models.error && !/ENOENT/.test(models.error), models.error ?? '');
  assert.equal(models.list.length, before + 1);
});
