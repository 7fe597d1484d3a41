/// <reference lib="dom" />
// The train wizard and the model library in Chromium, against browser mode, with generated photos and a
// tiny run: pick a folder, preview the damage, pick a model, train two short epochs while the learning curve
// gains points, then find the model in Models, rename, export, delete and import it again.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { SCREENSHOTS } from '../helpers/browser';
import { tempDir, writeTestImage } from '../helpers/fixtures';
import { browseTo as browseToIn, openStudio, type StudioPage } from '../helpers/studio-page';

let studio: StudioPage;
let page: Page;
let errors: string[];
let cleanup: () => Promise<void>;
let root: string;

before(async () => {
  const tmp = await tempDir();
  cleanup = tmp.cleanup;
  root = tmp.dir;
  process.env.STUDIO_HOME = join(root, 'home');
  await mkdir(join(root, 'photos'));
  await mkdir(join(root, 'exports'));
  for (let i = 0; i < 6; i++) await writeTestImage(join(root, 'photos', `photo-${i}.png`), 96, 80, i + 1);
  studio = await openStudio({ viewport: { width: 1280, height: 860 }, waitFor: 'view-restore' });
  ({ page, errors } = studio);
});

after(async () => {
  await studio?.close();
  await cleanup?.();
});

function browseTo(dir: string): Promise<void> {
  return browseToIn(page, dir);
}

test('the wizard checks the folder and previews the damage', async () => {
  await page.getByTestId('nav-train').click();
  await page.getByTestId('train-pick-data').click();
  await browseTo(join(root, 'photos'));
  assert.match((await page.getByTestId('folder-image-count').textContent()) ?? '', /^6 photos/);
  await page.getByTestId('folder-open').click();
  await page.getByTestId('dataset-report').waitFor();
  assert.match((await page.getByTestId('dataset-report').textContent()) ?? '', /6\s+clean photos/);
  await page.getByTestId('synth-preview').waitFor();
  await page.waitForFunction(() => Array.from(document.querySelectorAll('[data-testid=synth-preview] img')).every((i) => (i as HTMLImageElement).naturalWidth > 0));
  await page.screenshot({ path: join(SCREENSHOTS, 'train-1-data.png') });
});

test('the model step lists the zoo with sizes and draws the layers', async () => {
  await page.getByTestId('train-next').click();
  await page.getByTestId('arch-dncnn').waitFor({ timeout: 90_000 }); // the zoo is built once to count its parameters
  await page.getByTestId('arch-esrcnn').click();
  await page.getByTestId('layer-diagram').waitFor({ timeout: 60_000 });
  assert.match((await page.getByTestId('layer-diagram').textContent()) ?? '', /89,795 parameters/);
  // The speed shown is timed on this machine by the engine, and the zoo's estimates are scaled from it.
  await page.waitForFunction(() => /Measured on this machine \((wasm|tensorflow)\): [\d.]+ patches\/s/.test(document.querySelector('[data-testid=arch-measured]')?.textContent ?? ''), null, { timeout: 60_000 });
  assert.match((await page.getByTestId('arch-speed-unet').textContent()) ?? '', /≈ [\d.]+ patches\/s here/);
  await page.screenshot({ path: join(SCREENSHOTS, 'train-2-model.png') });
  await page.getByTestId('arch-dncnn').click();
  await page.waitForFunction(() => !/89,795 parameters/.test(document.querySelector('[data-testid=layer-diagram]')?.textContent ?? ''));
});

test('a short run trains live: the learning curve gains points and the model is saved', async () => {
  await page.getByTestId('train-next').click();
  await page.getByTestId('train-name').fill('e2e-model');
  await page.getByTestId('train-epochs').fill('2');
  await page.getByTestId('train-steps').fill('3');
  await page.getByTestId('train-batch').fill('4');
  await page.getByTestId('train-patch').fill('16');
  await page.waitForFunction(() => /Estimated time: .* s per step, timed on this machine/.test(document.querySelector('[data-testid=train-estimate]')?.textContent ?? ''), null, { timeout: 60_000 });
  await page.screenshot({ path: join(SCREENSHOTS, 'train-3-settings.png') });
  await page.getByTestId('train-start').click();
  await page.getByTestId('train-live').waitFor();
  await page.waitForFunction(() => /1 epoch\b/.test(document.querySelector('[data-testid=curve-epochs]')?.textContent ?? ''), null, { timeout: 240_000 });
  await page.waitForFunction(() => /2 epochs/.test(document.querySelector('[data-testid=curve-epochs]')?.textContent ?? ''), null, { timeout: 240_000 });
  await page.getByTestId('train-done').waitFor({ timeout: 60_000 });
  assert.match((await page.getByTestId('train-done').textContent()) ?? '', /saved “e2e-model”/i);
  await page.getByTestId('train-samples').waitFor();
  await page.screenshot({ path: join(SCREENSHOTS, 'train-4-live.png'), fullPage: true });
});

test('the new model is in Models with its card, curves and layers; rename, export, delete and import work', async () => {
  await page.getByTestId('nav-models').click();
  await page.getByTestId('model-e2e-model').click();
  await page.getByTestId('model-detail').waitFor();
  assert.match((await page.getByTestId('model-metrics').textContent()) ?? '', /dB PSNR/);
  await page.getByTestId('tab-curves').click();
  await page.getByTestId('learning-curves').waitFor();
  await page.getByTestId('tab-layers').click();
  await page.getByTestId('layer-diagram').waitFor();
  await page.screenshot({ path: join(SCREENSHOTS, 'models.png') });

  await page.getByTestId('model-rename').click();
  await page.getByTestId('rename-input').fill('Portrait denoiser');
  await page.getByTestId('rename-save').click();
  await page.waitForFunction(() => document.querySelector('[data-testid=model-name]')?.textContent === 'Portrait denoiser');

  await page.getByTestId('model-export').click();
  await browseTo(join(root, 'exports'));
  await page.getByTestId('folder-open').click();
  await page.waitForFunction(() => /Exported to/.test(document.querySelector('[data-testid=models-notice]')?.textContent ?? ''));
  const zip = join(root, 'exports', 'e2e-model.zip');
  assert.ok(existsSync(zip), 'the export wrote a zip');

  await page.getByTestId('model-delete').click();
  await page.getByTestId('delete-confirm').click();
  await page.waitForFunction(() => !document.querySelector('[data-testid=model-e2e-model]'));

  await page.getByTestId('model-import').click();
  await browseTo(join(root, 'exports'));
  await page.getByTestId('file-e2e-model.zip').click();
  await page.getByTestId('model-e2e-model').waitFor();
  await page.waitForFunction(() => document.querySelector('[data-testid=model-name]')?.textContent === 'Portrait denoiser');
});

test('a new run fine-tunes an installed model: it keeps its architecture and starts gently', async () => {
  await page.getByTestId('nav-train').click();
  await page.getByTestId('train-again').click();
  await page.getByTestId('train-next').click();
  await page.getByTestId('train-start-from').selectOption('e2e-model');
  await page.getByTestId('train-start-note').waitFor();
  assert.match((await page.getByTestId('train-start-note').textContent()) ?? '', /Fine-tunes “Portrait denoiser”/);
  assert.match((await page.getByTestId('arch-dncnn').getAttribute('class')) ?? '', /active/);
  await page.getByTestId('layer-diagram').waitFor();
  await page.screenshot({ path: join(SCREENSHOTS, 'train-2-fine-tune.png') });
  await page.getByTestId('train-next').click();
  assert.equal(Number(await page.getByTestId('train-lr').inputValue()), 0.0002);
  await page.getByTestId('train-name').fill('e2e-tuned');
  await page.getByTestId('train-epochs').fill('1');
  await page.getByTestId('train-steps').fill('2');
  await page.getByTestId('train-start').click();
  await page.getByTestId('train-fine-tuning').waitFor({ timeout: 60_000 });
  assert.match((await page.getByTestId('train-fine-tuning').textContent()) ?? '', /Fine-tuning “Portrait denoiser”/);
  await page.getByTestId('train-done').waitFor({ timeout: 240_000 });
  assert.match((await page.getByTestId('train-done').textContent()) ?? '', /saved “e2e-tuned”/i);
});

test('no page errors', () => {
  assert.deepEqual(errors, []);
});
