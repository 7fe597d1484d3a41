/// <reference lib="dom" />
// A community PyTorch model in the Models view, in Chromium against browser mode: Import… lists .pth and
// .safetensors files, the imported card names its source file, sha256 and scale, and the licence field saves
// and warns when the licence forbids commercial use.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { SCREENSHOTS } from '../helpers/browser';
import { tempDir } from '../helpers/fixtures';
import { browseTo, openStudio, type StudioPage } from '../helpers/studio-page';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'pytorch');

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
  await mkdir(join(root, 'downloads'));
  await copyFile(join(FIXTURES, 'realesrgan-x4.pth'), join(root, 'downloads', '4x-community.pth'));
  await copyFile(join(FIXTURES, 'compact-x1.safetensors'), join(root, 'downloads', '1x-compact.safetensors'));
  studio = await openStudio({ viewport: { width: 1280, height: 860 }, waitFor: 'view-restore' });
  ({ page, errors } = studio);
});

after(async () => {
  await studio?.close();
  await cleanup?.();
});

test('a .pth imports from the Models view with its source on the card, and a non-commercial licence is flagged', async () => {
  await page.getByTestId('nav-models').click();
  await page.getByTestId('model-import').click();
  await browseTo(page, join(root, 'downloads'));
  await page.getByTestId('file-1x-compact.safetensors').waitFor();
  await page.getByTestId('file-4x-community.pth').click();
  await page.getByTestId('model-4x-community').waitFor();
  await page.getByTestId('model-imported').waitFor();
  assert.match((await page.getByTestId('model-imported').textContent()) ?? '', /4x-community\.pth \(pth, esrgan, 4x\)\s*sha256 [0-9a-f]{64}/);
  assert.match((await page.getByTestId('model-scale').textContent()) ?? '', /4x/);
  assert.match((await page.getByTestId('model-license').textContent()) ?? '', /not filled in/);

  await page.getByTestId('license-edit').click();
  await page.getByTestId('license-input').fill('CC BY-NC-SA 4.0');
  await page.getByTestId('license-save').click();
  await page.getByTestId('license-warning').waitFor();
  assert.match((await page.getByTestId('model-license').textContent()) ?? '', /CC BY-NC-SA 4\.0/);
  assert.match((await page.getByTestId('license-warning').textContent()) ?? '', /does not allow commercial use/);
  await page.screenshot({ path: join(SCREENSHOTS, 'models-pytorch-import.png') });

  // A permissive licence clears the warning, and it survives a reload.
  await page.getByTestId('license-edit').click();
  await page.getByTestId('license-input').fill('Apache-2.0');
  await page.getByTestId('license-save').click();
  await page.waitForFunction(() => !document.querySelector('[data-testid=license-warning]') && /Apache-2\.0/.test(document.querySelector('[data-testid=model-license]')?.textContent ?? ''));
  await page.reload();
  await page.getByTestId('nav-models').click();
  await page.getByTestId('model-4x-community').click();
  await page.waitForFunction(() => /Apache-2\.0/.test(document.querySelector('[data-testid=model-license]')?.textContent ?? ''));
});

test('no page errors', () => {
  assert.deepEqual(errors, []);
});
