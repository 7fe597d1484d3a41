/// <reference lib="dom" />
// Restore in Chromium against browser mode: open a folder (with a broken file in it), pick a model,
// restore, watch progress, see the failure with its reason and the results, open one in Compare and move
// the slider. Originals stay byte for byte the same.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import type { Page } from 'playwright-core';
import { getArchitecture } from '../../src/main/engine/models';
import { savePackage } from '../../src/main/engine/package';
import { SCREENSHOTS } from '../helpers/browser';
import { tempDir, writeScanFolder } from '../helpers/fixtures';
import { browseTo, openStudio, type StudioPage } from '../helpers/studio-page';

let studio: StudioPage;
let page: Page;
let errors: string[];
let cleanup: () => Promise<void>;
let photos: string;
const hashes = new Map<string, string>();

const sha = async (file: string): Promise<string> => createHash('sha256').update(await readFile(file)).digest('hex');

before(async () => {
  const tmp = await tempDir();
  cleanup = tmp.cleanup;
  process.env.STUDIO_HOME = join(tmp.dir, 'home');
  photos = join(tmp.dir, 'scans');
  await writeScanFolder(photos, 3);
  for (const name of await readdir(photos)) hashes.set(name, await sha(join(photos, name)));

  // A small (untrained) restorer in the models folder.
  await tf.setBackend('cpu');
  const hyper = { depth: 3, filters: 8 };
  const model = getArchitecture('dncnn').build(hyper, { channels: 3 });
  await savePackage(join(tmp.dir, 'home', 'models'), model, { name: 'Tiny denoiser', id: 'tiny', architecture: { id: 'dncnn', hyper } });
  model.dispose();
  // A second one, to compare two models on the same photo.
  const other = getArchitecture('esrcnn').build({}, { channels: 3 });
  await savePackage(join(tmp.dir, 'home', 'models'), other, { name: 'Tiny ESRCNN', id: 'tiny2', architecture: { id: 'esrcnn', hyper: {} } });
  other.dispose();

  studio = await openStudio({ viewport: { width: 1280, height: 860 }, waitFor: 'view-restore' });
  ({ page, errors } = studio);
});

after(async () => {
  await studio?.close();
  await cleanup?.();
});

test('opening a folder shows its photos', async () => {
  await page.getByTestId('restore-open').click();
  await browseTo(page, photos);
  await page.waitForFunction(() => /4 photos/.test(document.querySelector('[data-testid=folder-image-count]')?.textContent ?? ''));
  await page.getByTestId('folder-open').click();
  await page.getByTestId('restore-photos').waitFor();
  assert.equal(await page.locator('[data-testid=restore-photos] li').count(), 4);
});

test('restoring shows progress, the failure with its reason, and the results', async () => {
  await page.getByTestId('restore-model').selectOption('tiny');
  await page.getByTestId('restore-format').selectOption('png');
  await page.getByTestId('restore-start').click();
  await page.getByTestId('restore-progress').waitFor();
  await page.getByTestId('restore-summary').waitFor({ timeout: 120_000 });
  assert.match((await page.getByTestId('restore-summary').textContent()) ?? '', /3 restored, 0 already done, 1 failed/);
  assert.match((await page.getByTestId('restore-failures').textContent()) ?? '', /broken\.jpg: .+/);
  assert.equal(await page.locator('[data-testid=restore-results] li').count(), 3);
  await page.getByTestId('restore-retry').waitFor();
  await page.waitForFunction(() => Array.from(document.querySelectorAll('[data-testid=restore-results] img')).every((i) => (i as HTMLImageElement).naturalWidth > 0));
  await page.screenshot({ path: join(SCREENSHOTS, 'restore.png'), fullPage: true });
  // Each model's results go to a folder of their own (issue 18).
  const outputs = (await readdir(`${photos}-restored-tiny`)).filter((f) => f.endsWith('.png')).sort();
  assert.deepEqual(outputs, ['scan-0.png', 'scan-1.png', 'scan-2.png']);
});

test('a result opens in Compare, the slider moves, and next goes through the batch', async () => {
  await page.getByTestId('result-scan-0.png').click();
  await page.getByTestId('compare-stage').waitFor();
  assert.equal(await page.getByTestId('compare-counter').textContent(), '1 of 3');
  await page.getByTestId('compare-stage').focus();
  await page.keyboard.press('ArrowRight');
  assert.equal(await page.getByTestId('compare-stage').getAttribute('aria-valuenow'), '55');
  await page.getByTestId('compare-next').click();
  assert.equal(await page.getByTestId('compare-name').textContent(), 'scan-1.png');
  await page.screenshot({ path: join(SCREENSHOTS, 'restore-compare.png') });
});

test('a second model restores the same photo and Compare shows the two models side by side', async () => {
  await page.getByTestId('compare-model').selectOption('tiny2');
  await page.getByTestId('compare-restore-with').click();
  await page.getByTestId('compare-right').waitFor({ timeout: 120_000 });
  const selected = (testid: string): Promise<string> =>
    page.getByTestId(testid).evaluate((el) => (el as HTMLSelectElement).selectedOptions[0]?.textContent ?? '');
  assert.equal(await selected('compare-left'), 'Tiny denoiser');
  assert.equal(await selected('compare-right'), 'Tiny ESRCNN');
  assert.deepEqual((await readdir(`${photos}-restored-tiny2`)).filter((f) => !f.startsWith('.')), ['scan-1.png']);
  await page.waitForFunction(() => Array.from(document.querySelectorAll('[data-testid=compare-stage] img')).every((i) => (i as HTMLImageElement).naturalWidth > 0));
  await page.screenshot({ path: join(SCREENSHOTS, 'compare-two-models.png') });
  // Asking again reuses the restored photo instead of adding a duplicate version.
  await page.getByTestId('compare-restore-with').click();
  await page.waitForFunction(() => !/Restoring/.test(document.querySelector('[data-testid=compare-restore-with]')?.textContent ?? ''));
  assert.equal(await page.locator('[data-testid=compare-right] option').count(), 3);
});

test('the originals are untouched', async () => {
  for (const [name, hash] of hashes) assert.equal(await sha(join(photos, name)), hash, `${name} changed`);
  assert.deepEqual((await readdir(photos)).sort(), [...hashes.keys()].sort(), 'nothing was written into the input folder');
});

test('no page errors', () => {
  // A broken photo's thumbnail fails to load (415); that is the only error the page may show.
  assert.deepEqual(errors.filter((e) => !/status of 415/.test(e)), []);
});
