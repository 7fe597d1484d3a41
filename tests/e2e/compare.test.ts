/// <reference lib="dom" />
// Compare in Chromium: the divider follows drags, clicks and arrow keys; side by side shows both; zoom and
// 1:1 work on both sides at once.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { SCREENSHOTS } from '../helpers/browser';
import { openCompareOf } from '../helpers/compare-page';
import type { StudioPage } from '../helpers/studio-page';

let studio: StudioPage;
let page: Page;
let errors: string[];
let cleanup: () => Promise<void>;

before(async () => {
  const opened = await openCompareOf({ name: 'before.png', width: 1600, height: 1200 }, { name: 'after.png', width: 1600, height: 1200 });
  ({ studio, cleanup } = opened);
  ({ page, errors } = studio);
});

after(async () => {
  await cleanup?.();
});

const divider = async (): Promise<number> => Number(await page.getByTestId('compare-stage').getAttribute('aria-valuenow'));

test('both images load from the opened folder', async () => {
  await page.waitForFunction(() => Array.from(document.querySelectorAll('.pane img')).every((i) => (i as HTMLImageElement).naturalWidth === 1600));
  assert.equal(await page.getByTestId('compare-name').textContent(), 'before.png');
});

test('the divider follows a drag, a click and the arrow keys', async () => {
  assert.equal(await divider(), 50);
  const box = (await page.getByTestId('compare-stage').boundingBox())!;
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width * 0.25, box.y + box.height / 2, { steps: 5 });
  await page.mouse.up();
  assert.ok(Math.abs((await divider()) - 25) <= 1, `dragged to ${await divider()}`);
  assert.match((await page.getByTestId('after-layer').getAttribute('style')) ?? '', /inset\(0(px)? 0(px)? 0(px)? 2[45]/);
  await page.mouse.click(box.x + box.width * 0.8, box.y + box.height / 3);
  assert.ok(Math.abs((await divider()) - 80) <= 1);
  await page.getByTestId('compare-stage').focus();
  await page.keyboard.press('ArrowLeft');
  await page.keyboard.press('ArrowLeft');
  assert.ok(Math.abs((await divider()) - 70) <= 1);
  await page.screenshot({ path: join(SCREENSHOTS, 'compare-slider.png') });
});

test('zoom and 1:1 apply to both sides; side by side shows two panes', async () => {
  // The zoom figure is in image pixels: the 1600 px photo fits a pane of about 900 px at about 900/1600.
  const pane = (await page.locator('.pane').first().boundingBox())!;
  const fit = Math.min(pane.width / 1600, pane.height / 1200);
  const zoom = async (): Promise<number> => Number(((await page.getByTestId('zoom-label').textContent()) ?? '').replace('%', '')) / 100;
  assert.ok(Math.abs((await zoom()) - fit) < 0.02, `fit reads ${await zoom()}, expected ${fit}`);
  await page.getByTestId('one-to-one').click();
  assert.equal(await page.getByTestId('zoom-label').textContent(), '100%');
  await page.getByTestId('mode-side').click();
  assert.equal(await page.locator('.pane').count(), 2);
  const transforms = await page.locator('.pane img').evaluateAll((imgs) => imgs.map((i) => (i as HTMLElement).style.transform));
  assert.equal(transforms[0], transforms[1], 'both sides share one zoom and pan');
  await page.screenshot({ path: join(SCREENSHOTS, 'compare-side-by-side.png') });
  await page.getByTestId('compare-stage').focus();
  await page.keyboard.press('0');
  const half = (await page.locator('.pane').first().boundingBox())!;
  const fitSide = Math.min(half.width / 1600, half.height / 1200);
  assert.ok(Math.abs((await zoom()) - fitSide) < 0.02, `fit side by side reads ${await zoom()}, expected ${fitSide}`);
});

test('no page errors', () => {
  assert.deepEqual(errors, []);
});
