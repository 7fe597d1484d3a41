/// <reference lib="dom" />
// The rough edges of issue 18, in Chromium: the folder browser shows thumbnails and recent folders; damage
// scores are said in words and only when they mean something; after a batch, "Open the output folder" (in
// browser mode: the studio's own folder browser at that folder); Settings restarts the engine; the wizard
// names the synthesis steps in words with rounded values and warns of a warm-up longer than the run; after a
// run, the sample crops zoom, the learning-rate axis reads in short labels, and the model can be used in
// Restore at once or its folder opened.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import type { Page } from 'playwright-core';
import { getArchitecture } from '../../src/main/engine/models';
import { savePackage } from '../../src/main/engine/package';
import { SCREENSHOTS } from '../helpers/browser';
import { tempDir, writeTestImage } from '../helpers/fixtures';
import { browseTo, openStudio, textOf, type StudioPage } from '../helpers/studio-page';

let studio: StudioPage;
let page: Page;
let errors: string[];
let cleanup: () => Promise<void>;
let root: string;
let photos: string;

before(async () => {
  const tmp = await tempDir();
  cleanup = tmp.cleanup;
  root = tmp.dir;
  process.env.STUDIO_HOME = join(root, 'home');
  photos = join(root, 'album');
  await mkdir(photos);
  for (let i = 0; i < 3; i++) await writeTestImage(join(photos, `print-${i}.png`), 160, 120, i + 2);
  await mkdir(join(root, 'train'));
  for (let i = 0; i < 6; i++) await writeTestImage(join(root, 'train', `clean-${i}.png`), 96, 80, i + 1);
  await tf.setBackend('cpu');
  const hyper = { depth: 3, filters: 8 };
  const model = getArchitecture('dncnn').build(hyper, { channels: 3 });
  await savePackage(join(root, 'home', 'models'), model, { name: 'Old photo', id: 'old-photo', architecture: { id: 'dncnn', hyper }, restores: { preset: 'old-photo', description: 'test' } });
  model.dispose();
  // The shipped damage classifier (with its calibration), where triage finds it.
  await cp(join('resources', 'models', 'classifier'), join(root, 'home', 'models', 'classifier'), { recursive: true });
  studio = await openStudio({ viewport: { width: 1280, height: 860 }, waitFor: 'view-restore' });
  ({ page, errors } = studio);
});

after(async () => {
  await studio?.close();
  await cleanup?.();
});

const text = (testid: string): Promise<string> => textOf(page, testid);
/** In the page: every image matching `sel` has loaded (there is at least one). */
const allLoaded = (sel: string): boolean =>
  Array.from(document.querySelectorAll(sel)).length > 0 && Array.from(document.querySelectorAll(sel)).every((i) => (i as HTMLImageElement).naturalWidth > 0);

test('the folder browser shows thumbnails of the photos in a folder', async () => {
  await page.getByTestId('restore-open').click();
  await browseTo(page, photos);
  const selector = '[data-testid=folder-browser] [data-testid^=photo-] img';
  await page.waitForFunction(allLoaded, selector, { timeout: 30_000 });
  assert.equal(await page.locator(selector).count(), 3);
  await page.screenshot({ path: join(SCREENSHOTS, 'folder-browser-thumbnails.png') });
  await page.getByTestId('folder-open').click();
  await page.getByTestId('restore-photos').waitFor();
});

test('damage scores are said in words, and only where they mean something', async () => {
  await page
    .waitForFunction(() => document.querySelectorAll('[data-testid=damage-score]').length === 3, null, { timeout: 90_000 })
    .catch(async (error: unknown) => {
      await page.screenshot({ path: join(SCREENSHOTS, 'restore-damage-words-missing.png'), fullPage: true });
      throw new Error(`No damage labels; the Photos heading reads "${await page.locator('[aria-label=Photos] h2').textContent()}"`, { cause: error });
    });
  for (const label of await page.getByTestId('damage-score').allTextContents()) {
    assert.match(label.trim(), /^(Looks damaged \(\d+% sure\)|Looks clean \(\d+% sure\)|No clear sign of damage)$/);
  }
  await page.screenshot({ path: join(SCREENSHOTS, 'restore-damage-words.png') });
});

test('the folder browser lists recent folders, and one click goes back to one', async () => {
  await page.getByTestId('restore-open').click();
  await page.getByTestId('folder-recent').waitFor();
  assert.match(await text('folder-recent'), /album/);
  await page.getByTestId('folder-path').fill(root);
  await page.getByTestId('folder-path').press('Enter');
  await page.waitForFunction((d) => document.querySelector('[data-testid=folder-browser]')?.getAttribute('data-listed') === d, root);
  await page.getByTestId('folder-recent').getByRole('button', { name: 'album' }).click();
  await page.waitForFunction((d) => document.querySelector('[data-testid=folder-browser]')?.getAttribute('data-listed') === d, photos);
  await page.keyboard.press('Escape');
  await page.getByTestId('folder-browser').waitFor({ state: 'detached' });
});

test('after a batch, "Open the output folder" shows the results in the folder browser, and opens them', async () => {
  await page.getByTestId('restore-format').selectOption('png');
  await page.getByTestId('restore-start').click();
  await page.getByTestId('restore-summary').waitFor({ timeout: 120_000 });
  await page.getByTestId('open-output').click();
  const out = `${photos}-restored-old-photo`;
  await page.waitForFunction((d) => document.querySelector('[data-testid=folder-browser]')?.getAttribute('data-listed') === d, out);
  const selector = '[data-testid=folder-browser] [data-testid^=photo-] img';
  await page.waitForFunction(allLoaded, selector, { timeout: 30_000 });
  await page.screenshot({ path: join(SCREENSHOTS, 'restore-open-output.png') });
  await page.getByTestId('folder-open').click();
  await page.waitForFunction((d) => document.querySelector('[data-testid=restore-folder]')?.textContent === d, out);
});

test('Settings restarts the engine, which comes back with the saved thread count', async () => {
  const engine = studio.mode.engine;
  const old = await engine.call('engine.info', {});
  await page.getByTestId('nav-settings').click();
  await page.getByTestId('setting-threads').fill('1');
  await page.getByTestId('setting-threads').dispatchEvent('change');
  await page.getByTestId('setting-restart-engine').click();
  await page.getByTestId('setting-restarted').waitFor({ timeout: 90_000 });
  // A fresh engine process answered, and the page says what it runs on.
  const fresh = await engine.call('engine.info', {});
  assert.notEqual(fresh.pid, old.pid, 'the engine process was replaced');
  const threads = `${fresh.threads} thread${fresh.threads === 1 ? '' : 's'}`;
  assert.match(await text('setting-restarted'), new RegExp(`^Restarted: .+ · ${threads}\\.$`));
  // wasm takes the saved count; native TensorFlow keeps its own pool (one thread per core).
  if (fresh.backend === 'wasm') assert.equal(fresh.threads, 1);
});

test('the synthesis preview names each step in words with rounded values', async () => {
  await page.getByTestId('nav-train').click();
  await page.getByTestId('train-pick-data').click();
  await browseTo(page, join(root, 'train'));
  await page.getByTestId('folder-open').click();
  await page.getByTestId('dataset-report').waitFor();
  await page.getByTestId('train-preset').selectOption('old-photo');
  await page.getByTestId('synth-steps').waitFor({ timeout: 60_000 });
  const steps = await text('synth-steps');
  assert.doesNotMatch(steps, /\w\(|=|\d\.\d{2,}/, `steps in words: ${steps}`);
  await page.screenshot({ path: join(SCREENSHOTS, 'train-synth-words.png') });
});

test('a warm-up longer than the whole run is pointed out', async () => {
  await page.getByTestId('train-next').click();
  await page.getByTestId('arch-dncnn').waitFor({ timeout: 90_000 });
  await page.getByTestId('arch-dncnn').click();
  await page.getByTestId('train-next').click();
  await page.getByTestId('train-name').fill('edges');
  await page.getByTestId('train-epochs').fill('2');
  await page.getByTestId('train-steps').fill('3');
  await page.getByTestId('train-warmup').fill('50');
  await page.getByTestId('train-warmup-note').waitFor();
  assert.match(await text('train-warmup-note'), /longer than the whole run \(6 steps\)/);
  await page.getByTestId('train-warmup').fill('2');
  await page.getByTestId('train-warmup-note').waitFor({ state: 'detached' });
});

test('after a run: the samples zoom, the learning-rate labels are short, the model goes to Restore', async () => {
  await page.getByTestId('train-batch').fill('4');
  await page.getByTestId('train-patch').fill('16');
  await page.getByTestId('train-start').click();
  await page.getByTestId('train-done').waitFor({ timeout: 300_000 });

  await page.getByTestId('train-sample-0').click();
  await page.getByTestId('sample-zoom').waitFor();
  await page.waitForFunction(() => ((document.querySelector('[data-testid=sample-zoom-restored]') as HTMLImageElement | null)?.naturalWidth ?? 0) > 0);
  const width = async (): Promise<number> => page.getByTestId('sample-zoom-restored').evaluate((i) => (i as HTMLImageElement).getBoundingClientRect().width);
  const natural = await page.getByTestId('sample-zoom-restored').evaluate((i) => (i as HTMLImageElement).naturalWidth);
  await page.getByTestId('sample-zoom-8').click();
  assert.equal(Math.round(await width()), natural * 8, 'at 8x each crop pixel is 8 screen pixels');
  await page.screenshot({ path: join(SCREENSHOTS, 'train-sample-zoom.png') });
  await page.getByTestId('sample-zoom-close').click();

  const ticks = (await page.getByTestId('lr-chart').getAttribute('data-y-ticks')) ?? '';
  const labels = ticks.split(' | ').filter(Boolean);
  assert.ok(labels.length > 0, 'the learning-rate axis has labels');
  for (const l of labels) assert.match(l, /^\d(\.\d)?e-?\d+$|^0$/, `short label: ${l} (all: ${ticks})`);
  await page.getByTestId('lr-chart').screenshot({ path: join(SCREENSHOTS, 'train-lr-chart.png') });

  assert.equal(await page.getByTestId('open-output').count(), 1, 'the model folder can be opened');
  await page.getByTestId('train-use-in-restore').click();
  await page.getByTestId('view-restore').waitFor();
  await page.waitForFunction(() => (document.querySelector('[data-testid=restore-model]') as HTMLSelectElement | null)?.value === 'edges', null, { timeout: 30_000 });
  assert.deepEqual(errors, []);
});
