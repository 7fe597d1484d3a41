/// <reference lib="dom" />
// What a new user hits in Train and Models (issue 18): settings checked as they are typed, in words; a name
// that is taken is caught on the settings step with a way out; progress that moves during the run; Stop
// that answers at once and ends in a clear "stopped after epoch N"; "New training" with a fresh name; an
// import that would duplicate a name; a delete that names the model; notices that can be put away.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import type { Page } from 'playwright-core';
import { getArchitecture } from '../../src/main/engine/models';
import { exportPackageZip, savePackage } from '../../src/main/engine/package';
import { SCREENSHOTS } from '../helpers/browser';
import { tempDir, writeTestImage } from '../helpers/fixtures';
import { browseTo, openStudio, textOf, type StudioPage } from '../helpers/studio-page';

let studio: StudioPage;
let page: Page;
let errors: string[];
let cleanup: () => Promise<void>;
let root: string;

const RAW = /Invalid input for|Too small|expected number|received string|--resume|--overwrite|overwrite\.|ENOENT/;

before(async () => {
  const tmp = await tempDir();
  cleanup = tmp.cleanup;
  root = tmp.dir;
  process.env.STUDIO_HOME = join(root, 'home');
  await mkdir(join(root, 'photos'));
  for (let i = 0; i < 6; i++) await writeTestImage(join(root, 'photos', `photo-${i}.png`), 96, 80, i + 1);
  // A model already called "portraits", and a zip of it (as if exported before).
  await tf.setBackend('cpu');
  const models = join(root, 'home', 'models');
  const hyper = { depth: 3, filters: 8 };
  const model = getArchitecture('dncnn').build(hyper, { channels: 3 });
  await savePackage(models, model, { name: 'Portraits', id: 'portraits', architecture: { id: 'dncnn', hyper } });
  model.dispose();
  await exportPackageZip(models, 'portraits', join(root, 'portraits.zip'));
  studio = await openStudio({ viewport: { width: 1280, height: 860 }, waitFor: 'view-restore' });
  ({ page, errors } = studio);
});

after(async () => {
  await studio?.close();
  await cleanup?.();
});

const text = (testid: string): Promise<string> => textOf(page, testid);

test('to the settings step', async () => {
  await page.getByTestId('nav-train').click();
  await page.getByTestId('train-pick-data').click();
  await browseTo(page, join(root, 'photos'));
  await page.getByTestId('folder-open').click();
  await page.getByTestId('dataset-report').waitFor();
  await page.getByTestId('train-next').click();
  await page.getByTestId('arch-dncnn').waitFor({ timeout: 90_000 });
  await page.getByTestId('train-next').click();
  await page.getByTestId('train-name').waitFor();
});

test('settings are checked as they are typed, in words, and Start waits for them', async () => {
  await page.getByTestId('train-epochs').fill('0');
  await page.getByTestId('train-epochs-error').waitFor();
  assert.match(await text('train-epochs-error'), /at least 1/);
  await page.getByTestId('train-batch').fill('');
  await page.getByTestId('train-batch-error').waitFor();
  assert.match(await text('train-batch-error'), /Enter/);
  assert.equal(await page.getByTestId('train-start').isDisabled(), true);
  await page.getByTestId('train-name').fill('My Model!');
  await page.getByTestId('train-name-error').waitFor();
  assert.doesNotMatch(await text('train-name-error'), /\[a-z/);
  await page.screenshot({ path: join(SCREENSHOTS, 'train-settings-invalid.png') });
  assert.doesNotMatch((await page.locator('main').textContent()) ?? '', RAW);
  await page.getByTestId('train-epochs').fill('5');
  await page.getByTestId('train-batch').fill('4');
  assert.equal(await page.getByTestId('train-epochs-error').count(), 0);
  assert.equal(await page.getByTestId('train-batch-error').count(), 0);
});

test('a name that is taken is caught on the settings step, with a new name offered', async () => {
  await page.getByTestId('train-name').fill('portraits');
  await page.getByTestId('train-name-clash').waitFor();
  assert.match(await text('train-name-clash'), /“Portraits” already/);
  assert.equal(await page.getByTestId('train-start').isDisabled(), true);
  await page.getByTestId('train-name-other').click();
  assert.equal(await page.getByTestId('train-name').inputValue(), 'portraits-2');
  assert.equal(await page.getByTestId('train-name-clash').count(), 0);
});

test('progress moves during the run, Stop answers at once, and the end says what was saved', async () => {
  // Enough steps that an epoch lasts a few seconds even on the native engine: Stop must land mid-run.
  await page.getByTestId('train-steps').fill('40');
  await page.getByTestId('train-patch').fill('16');
  await page.getByTestId('train-start').click();
  await page.getByTestId('train-live').waitFor();
  // Within the first epoch, progress is already above 0%.
  await page.waitForFunction(
    () =>
      document.querySelector('[data-testid=train-state]')?.textContent === 'training' &&
      /^1 \//.test(document.querySelector('[data-testid=train-epoch]')?.textContent ?? '') &&
      !/^0%$/.test(document.querySelector('[data-testid=train-progress]')?.textContent ?? ''),
    null,
    { timeout: 240_000 },
  );
  // Into the second epoch, it still reads more than 0%.
  await page.waitForFunction(
    () =>
      /^2 \//.test(document.querySelector('[data-testid=train-epoch]')?.textContent ?? '') &&
      document.querySelector('[data-testid=train-state]')?.textContent === 'training' &&
      Number((document.querySelector('[data-testid=train-progress]')?.textContent ?? '0').replace('%', '')) >= 20,
    null,
    { timeout: 240_000 },
  );
  const epochAtStop = Number(/^(\d+) \//.exec(await text('train-epoch'))?.[1]);
  await page.getByTestId('train-stop').click();
  // At once, not after the epoch ends.
  await page.waitForFunction(() => /stopping/i.test(document.querySelector('[data-testid=train-state]')?.textContent ?? ''), null, { timeout: 2_000 });
  assert.equal(await page.getByTestId('train-stop').count(), 0, 'Stop is not offered twice');
  await page.getByTestId('train-done').waitFor({ timeout: 240_000 });
  // The epoch under way when Stop was pressed is left unfinished (or, at most, the one that began as it landed).
  const done = await text('train-done');
  const stoppedAfter = Number(/Stopped after epoch (\d+) of 5; saved “portraits-2”/.exec(done)?.[1]);
  assert.ok(stoppedAfter >= epochAtStop - 1 && stoppedAfter <= epochAtStop && stoppedAfter < 5, `${done} (Stop pressed in epoch ${epochAtStop})`);
  assert.equal(await text('train-state'), 'stopped');
  assert.doesNotMatch(done, /cancelled/);
  await page.screenshot({ path: join(SCREENSHOTS, 'train-stopped.png'), fullPage: true });
});

test('"New training" does not reuse the last name', async () => {
  await page.getByTestId('train-again').click();
  await page.getByTestId('train-next').click();
  await page.getByTestId('arch-dncnn').waitFor();
  await page.getByTestId('train-next').click();
  const name = await page.getByTestId('train-name').inputValue();
  assert.notEqual(name, 'portraits-2');
  assert.equal(await page.getByTestId('train-name-clash').count(), 0, `${name} is free`);
});

test('importing a model whose name is taken keeps the two apart by name', async () => {
  await page.getByTestId('nav-models').click();
  await page.getByTestId('model-import').click();
  await browseTo(page, root);
  await page.getByTestId('file-portraits.zip').click();
  await page.getByTestId('models-notice').waitFor();
  assert.match(await text('models-notice'), /Portraits \(2\)/);
  const names = await page.locator('.model-list strong').allTextContents();
  assert.equal(names.filter((n) => n === 'Portraits').length, 1, `names: ${names.join(', ')}`);
  assert.ok(names.includes('Portraits (2)'));
});

test('a notice can be put away', async () => {
  await page.getByTestId('models-notice-close').click();
  assert.equal(await page.getByTestId('models-notice').count(), 0);
});

test('deleting names the model, not its id', async () => {
  await page.getByTestId('model-portraits').click();
  await page.getByTestId('model-delete').click();
  await page.getByTestId('delete-confirm').click();
  await page.getByTestId('models-notice').waitFor();
  assert.match(await text('models-notice'), /^Deleted “Portraits”\./);
});

test('no page errors', () => {
  assert.deepEqual(errors, []);
});
