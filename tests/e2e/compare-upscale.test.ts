/// <reference lib="dom" />
// Compare with an upscaler's result (4x the original): the original is drawn enlarged into the same place as
// the result, pixel for pixel, so the slider lines up; the pair is labelled "4× upscale"; zoom figures and
// 1:1 are in the result's pixels.
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
  const opened = await openCompareOf({ name: 'small.png', width: 400, height: 300 }, { name: 'small-x4.png', width: 1600, height: 1200 });
  ({ studio, cleanup } = opened);
  ({ page, errors } = studio);
});

after(async () => {
  await cleanup?.();
});

/** Where each image's photo is drawn on screen (object-fit: contain inside its element), in page pixels. */
async function drawnRects(): Promise<{ x: number; y: number; width: number; height: number; rendering: string }[]> {
  return page.locator('.pane img').evaluateAll((imgs) =>
    imgs.map((node) => {
      const img = node as HTMLImageElement;
      const box = img.getBoundingClientRect();
      const fit = Math.min(box.width / img.naturalWidth, box.height / img.naturalHeight);
      const width = img.naturalWidth * fit;
      const height = img.naturalHeight * fit;
      return { x: box.x + (box.width - width) / 2, y: box.y + (box.height - height) / 2, width, height, rendering: getComputedStyle(img).imageRendering };
    }),
  );
}

test('the original is drawn enlarged exactly where the 4x result is, and the pair says "4× upscale"', async () => {
  await page.waitForFunction(() => {
    const imgs = Array.from(document.querySelectorAll('.pane img')) as HTMLImageElement[];
    return imgs.length === 2 && imgs.every((i) => i.naturalWidth > 0);
  });
  await page.getByTestId('compare-scale').waitFor();
  assert.equal((await page.getByTestId('compare-scale').textContent())?.trim(), '4× upscale');
  const [original, result] = await drawnRects();
  for (const key of ['x', 'y', 'width', 'height'] as const) {
    assert.ok(Math.abs(original![key] - result![key]) < 0.5, `${key}: original ${original![key]}, result ${result![key]}`);
  }
  assert.equal(original!.rendering, 'pixelated', 'the enlarged original shows its own pixels');
  assert.notEqual(result!.rendering, 'pixelated');
  // Zoomed in, the two still share one transform: what lines up at fit lines up everywhere.
  await page.getByTestId('compare-stage').focus();
  await page.keyboard.press('+');
  await page.keyboard.press('+');
  const transforms = await page.locator('.pane img').evaluateAll((imgs) => imgs.map((i) => (i as HTMLElement).style.transform));
  assert.equal(transforms[0], transforms[1]);
  await page.keyboard.press('0');
  await page.screenshot({ path: join(SCREENSHOTS, 'compare-upscale.png') });
});

test('zoom figures are in the result\'s pixels: fit reads pane/1600, 1:1 shows one result pixel per screen pixel', async () => {
  const pane = (await page.locator('.pane').first().boundingBox())!;
  const fit = Math.min(pane.width / 1600, pane.height / 1200);
  const zoom = async (): Promise<number> => Number(((await page.getByTestId('zoom-label').textContent()) ?? '').replace('%', '')) / 100;
  assert.ok(Math.abs((await zoom()) - fit) < 0.02, `fit reads ${await zoom()}, expected ${fit}`);
  await page.getByTestId('one-to-one').click();
  assert.equal(await page.getByTestId('zoom-label').textContent(), '100%');
  const [, result] = await drawnRects();
  // The element is scaled by the transform; its box grows with it, so the drawn width is the result's.
  assert.ok(Math.abs(result!.width - 1600) < 2, `the 1600-px result is drawn ${result!.width} px wide at 1:1`);
});

test('no page errors', () => {
  assert.deepEqual(errors, []);
});
