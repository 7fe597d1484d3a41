/// <reference lib="dom" />
// End to end in Debian Chromium against browser mode: the app loads, the views are reachable, the status
// bar shows the engine backend, settings survive a reload. Screenshots land in test-results/screenshots.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { SCREENSHOTS } from '../helpers/browser';
import { tempDir } from '../helpers/fixtures';
import { openStudio, type StudioPage } from '../helpers/studio-page';
import { NATIVE } from '../helpers/native';

let studio: StudioPage;
let page: Page;
let errors: string[];
let cleanup: () => Promise<void>;

before(async () => {
  const tmp = await tempDir();
  cleanup = tmp.cleanup;
  process.env.STUDIO_HOME = join(tmp.dir, 'home');
  delete process.env.STUDIO_BACKEND;
  // The first test opens the page itself.
  studio = await openStudio({ viewport: { width: 1200, height: 760 }, navigate: false });
  ({ page, errors } = studio);
});

after(async () => {
  await studio?.close();
  await cleanup?.();
});

test('the studio loads and the status bar shows the engine backend', async () => {
  await page.goto(studio.mode.server.url);
  await page.getByTestId('view-restore').waitFor();
  const backend = page.getByTestId('status-backend');
  // The engine's first start (WebAssembly compile) is the slowest step on a busy machine.
  await page.waitForFunction(() => /wasm|cpu|tensorflow/i.test(document.querySelector('[data-testid=status-backend]')?.textContent ?? ''), null, {
    timeout: 90_000,
  });
  // Native TensorFlow where npm run engine:native built it (named with its version and device), else wasm.
  assert.match((await backend.textContent()) ?? '', NATIVE ? /^TensorFlow \d+\.\d+\S* · (CPU|\d+ GPUs?.*) · \d+ threads?$/ : /^wasm · \d+ threads?$/);
  await page.screenshot({ path: join(SCREENSHOTS, 'shell-restore.png') });
});

test('navigation reaches every view', async () => {
  for (const [nav, view, heading] of [
    ['nav-compare', 'view-compare', 'Compare'],
    ['nav-train', 'view-train', 'Train'],
    ['nav-models', 'view-models', 'Models'],
    ['nav-settings', 'view-settings', 'Settings'],
    ['nav-restore', 'view-restore', 'Restore'],
  ] as const) {
    await page.getByTestId(nav).click();
    await page.getByTestId(view).waitFor();
    assert.equal(await page.locator('h1').textContent(), heading);
    assert.match(page.url(), new RegExp(`#/${heading.toLowerCase()}$`));
  }
});

test('a setting changed in Settings is kept after a reload', async () => {
  await page.getByTestId('nav-settings').click();
  await page.getByTestId('setting-theme').selectOption('dark');
  await page.waitForFunction(() => document.documentElement.dataset.theme === 'dark');
  await page.screenshot({ path: join(SCREENSHOTS, 'shell-settings-dark.png') });
  await page.reload();
  await page.getByTestId('view-settings').waitFor();
  await page.waitForFunction(() => (document.querySelector('[data-testid=setting-theme]') as HTMLSelectElement | null)?.value === 'dark');
  assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), 'dark');
});

test('the theme follows the system unless Settings pins one', async () => {
  const background = (): Promise<string> => page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  const DARK = 'rgb(23, 23, 26)';
  const LIGHT = 'rgb(246, 246, 244)';
  assert.equal(await background(), DARK, 'pinned dark');
  await page.getByTestId('setting-theme').selectOption('system');
  await page.emulateMedia({ colorScheme: 'light' });
  await page.waitForFunction((light) => getComputedStyle(document.body).backgroundColor === light, LIGHT);
  await page.emulateMedia({ colorScheme: 'dark' });
  assert.equal(await background(), DARK, 'system dark');
  await page.getByTestId('setting-theme').selectOption('light');
  await page.waitForFunction((light) => getComputedStyle(document.body).backgroundColor === light, LIGHT);
});

test('the page raised no errors (CSP violations included)', () => {
  assert.deepEqual(errors, []);
});
