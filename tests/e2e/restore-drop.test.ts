/// <reference lib="dom" />
// Drag and drop in Chromium against browser mode: dragging files over the Restore view shows the overlay,
// dropping three photos and a text file uploads the photos into a fresh <dataDir>/dropped/<stamp> folder
// (with progress), reports the text file by name, opens the folder (thumbnails), and restoring it works.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readdir, realpath } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import type { JSHandle, Page } from 'playwright-core';
import { getArchitecture } from '../../src/main/engine/models';
import { savePackage } from '../../src/main/engine/package';
import { SCREENSHOTS } from '../helpers/browser';
import { tempDir, writeTestImage } from '../helpers/fixtures';
import { openStudio, type StudioPage } from '../helpers/studio-page';

const OVERLAY_SHOT = '/tmp/drop-overlay.png';

let studio: StudioPage;
let page: Page;
let errors: string[];
let cleanup: () => Promise<void>;
let home: string;
let dropped: { name: string; type: string; base64: string }[];
let transfer: JSHandle<DataTransfer>;

before(async () => {
  const tmp = await tempDir();
  cleanup = tmp.cleanup;
  home = join(tmp.dir, 'home');
  process.env.STUDIO_HOME = home;
  // Photos made by sharp; only their bytes travel to the page (a browser drop carries no paths).
  dropped = [];
  for (let i = 0; i < 3; i++) {
    const bytes = await writeTestImage(join(tmp.dir, `drop-${i}.png`), 120, 90, i + 3);
    dropped.push({ name: `drop-${i}.png`, type: 'image/png', base64: bytes.toString('base64') });
  }
  dropped.push({ name: 'notes.txt', type: 'text/plain', base64: Buffer.from('not a photo').toString('base64') });

  // A small (untrained) restorer in the models folder, as in restore.test.ts.
  await tf.setBackend('cpu');
  const hyper = { depth: 3, filters: 8 };
  const model = getArchitecture('dncnn').build(hyper, { channels: 3 });
  await savePackage(join(home, 'models'), model, { name: 'Tiny denoiser', id: 'tiny', architecture: { id: 'dncnn', hyper } });
  model.dispose();

  studio = await openStudio({ viewport: { width: 1280, height: 860 }, waitFor: 'view-restore' });
  ({ page, errors } = studio);
  transfer = await page.evaluateHandle((files) => {
    const data = new DataTransfer();
    for (const f of files) {
      const bytes = Uint8Array.from(atob(f.base64), (c) => c.charCodeAt(0));
      data.items.add(new File([bytes], f.name, { type: f.type }));
    }
    return data;
  }, dropped);
});

after(async () => {
  await studio?.close();
  await cleanup?.();
});

test('dragging files over the view shows the overlay, steady over child elements', async () => {
  const view = page.getByTestId('view-restore');
  await view.dispatchEvent('dragenter', { dataTransfer: transfer });
  await view.dispatchEvent('dragover', { dataTransfer: transfer });
  await page.getByTestId('drop-overlay').waitFor();
  // Moving onto a child: enter the child, then leave the view. The counter keeps the overlay.
  await page.locator('[data-testid=view-restore] h1').dispatchEvent('dragenter', { dataTransfer: transfer });
  await view.dispatchEvent('dragleave', { dataTransfer: transfer });
  assert.equal(await page.getByTestId('drop-overlay').isVisible(), true);
  assert.match((await page.getByTestId('drop-overlay').textContent()) ?? '', /Drop photos to restore them/);
  assert.equal(await page.getByTestId('drop-overlay').getAttribute('aria-hidden'), 'true');
  await page.screenshot({ path: OVERLAY_SHOT });
  await page.screenshot({ path: join(SCREENSHOTS, 'restore-drop-overlay.png') });
  // Leaving the child as well: the overlay goes.
  await page.locator('[data-testid=view-restore] h1').dispatchEvent('dragleave', { dataTransfer: transfer });
  await page.getByTestId('drop-overlay').waitFor({ state: 'detached' });
});

test('dropping photos and a text file copies the photos into a new dropped folder and opens it', async () => {
  // Record what the status region says during the import ("Copying 1 of 3…").
  await page.evaluate(() => {
    const seen: string[] = [];
    (window as unknown as { dropStatus: string[] }).dropStatus = seen;
    const region = document.querySelector('[data-testid=drop-status]')!;
    new MutationObserver(() => seen.push(region.textContent ?? '')).observe(region, { subtree: true, childList: true, characterData: true });
  });
  const view = page.getByTestId('view-restore');
  await view.dispatchEvent('dragenter', { dataTransfer: transfer });
  await view.dispatchEvent('dragover', { dataTransfer: transfer });
  await view.dispatchEvent('drop', { dataTransfer: transfer });
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=restore-photos] li').length === 3);
  assert.equal(await page.getByTestId('drop-overlay').count(), 0, 'the overlay is gone after the drop');

  const rejected = (await page.getByTestId('drop-rejected').textContent()) ?? '';
  assert.match(rejected, /notes\.txt is not a photo \(supported: .*\.png.*\)/);
  assert.equal(await page.getByTestId('drop-rejected').getAttribute('role'), 'alert');
  assert.match((await page.getByTestId('drop-notice').textContent()) ?? '', /3 photos copied to/);
  const statuses = await page.evaluate(() => (window as unknown as { dropStatus: string[] }).dropStatus);
  assert.ok(statuses.some((s) => /Copying \d of 3…/.test(s)), `progress was shown: ${JSON.stringify(statuses)}`);

  // The folder: <dataDir>/dropped/<YYYYMMDD-HHMMSS>, holding byte-identical copies of the photos only.
  const folder = ((await page.getByTestId('restore-folder').textContent()) ?? '').trim();
  assert.match(folder, /\/dropped\/\d{8}-\d{6}(-\d+)?$/);
  const stamps = await readdir(join(home, 'dropped'));
  assert.equal(stamps.length, 1, 'one new folder');
  const dir = join(home, 'dropped', stamps[0]!);
  assert.equal(folder, await realpath(dir));
  assert.deepEqual((await readdir(dir)).sort(), ['drop-0.png', 'drop-1.png', 'drop-2.png']);
  for (const f of dropped.slice(0, 3)) assert.deepEqual(await readFile(join(dir, f.name)), Buffer.from(f.base64, 'base64'));

  // The thumbnails come from the opened folder.
  await page.waitForFunction(() =>
    Array.from(document.querySelectorAll('[data-testid=restore-photos] img')).every((i) => (i as HTMLImageElement).naturalWidth > 0),
  );
  const names = await page.locator('[data-testid=restore-photos] li span:first-of-type').allTextContents();
  assert.deepEqual(names.map((n) => n.trim()).sort(), ['drop-0.png', 'drop-1.png', 'drop-2.png']);
  await page.screenshot({ path: join(SCREENSHOTS, 'restore-drop.png'), fullPage: true });
});

test('the dropped folder restores like any other', async () => {
  await page.getByTestId('restore-model').selectOption('tiny');
  await page.getByTestId('restore-format').selectOption('png');
  await page.getByTestId('restore-start').click();
  await page.getByTestId('restore-summary').waitFor({ timeout: 120_000 });
  assert.match((await page.getByTestId('restore-summary').textContent()) ?? '', /3 restored, 0 already done, 0 failed/);
  assert.equal(await page.locator('[data-testid=restore-results] li').count(), 3);
});

test('no page errors', () => {
  assert.deepEqual(errors, []);
});
