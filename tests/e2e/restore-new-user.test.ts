/// <reference lib="dom" />
// What a new user hits in Restore and Compare (issue 18): the folder browser shows the photos and refuses a
// folder that does not exist; the model picker lists each model once, grouped by what it restores; each
// model's results go to their own folder and the gallery shows the new ones; another folder clears the last
// batch; no raw error reaches the page; Compare names the models, reuses a version it already has, keeps
// the photo in its pane and gives zoom in image pixels.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import type { Page } from 'playwright-core';
import sharp from 'sharp';
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

const sha = async (file: string): Promise<string> => createHash('sha256').update(await readFile(file)).digest('hex');
/** Words that only a developer understands; none may reach the page. */
const RAW = /Invalid input for|ENOENT|EACCES|sharp|--recursive|Too small|expected number/;

before(async () => {
  const tmp = await tempDir();
  cleanup = tmp.cleanup;
  root = tmp.dir;
  process.env.STUDIO_HOME = join(root, 'home');
  photos = join(root, 'scans');
  await mkdir(photos);
  for (let i = 0; i < 2; i++) await writeTestImage(join(photos, `scan-${i}.png`), 120, 90, i + 3);
  await writeFile(join(photos, 'broken.jpg'), Buffer.from('this is not a jpeg'));
  await mkdir(join(root, 'empty'));
  await mkdir(join(root, 'nested', 'inner'), { recursive: true });
  await writeTestImage(join(root, 'nested', 'inner', 'deep.png'), 64, 48, 9);

  // Three small (untrained) restorers: the default old-photo one, a denoiser and a JPEG one.
  await tf.setBackend('cpu');
  const models = join(root, 'home', 'models');
  const save = async (id: string, name: string, arch: 'dncnn' | 'esrcnn', preset: string): Promise<void> => {
    const hyper = arch === 'dncnn' ? { depth: 3, filters: 8 } : {};
    const model = getArchitecture(arch).build(hyper, { channels: 3 });
    await savePackage(models, model, { name, id, architecture: { id: arch, hyper }, restores: { preset, description: name } });
    model.dispose();
  };
  await save('old-photo', 'Old photo', 'dncnn', 'old-photo');
  await save('tiny', 'Tiny denoiser', 'dncnn', 'gaussian-blind');
  await save('tiny2', 'Tiny JPEG fixer', 'esrcnn', 'jpeg-blind');

  studio = await openStudio({ viewport: { width: 1280, height: 860 }, waitFor: 'view-restore' });
  ({ page, errors } = studio);
});

after(async () => {
  await studio?.close();
  await cleanup?.();
});

const text = (testid: string): Promise<string> => textOf(page, testid);

test('the folder browser lists the photos of a folder, not "Nothing to open here"', async () => {
  await page.getByTestId('restore-open').click();
  await browseTo(page, photos);
  const list = (await page.locator('[data-testid=folder-browser] .folder-list').textContent()) ?? '';
  assert.match(list, /scan-0\.png/);
  assert.match(list, /scan-1\.png/);
  assert.doesNotMatch(list, /Nothing to open here/);
});

test('a folder that does not exist is refused in words, and nothing else is opened instead', async () => {
  const missing = join(root, 'no-such-folder');
  await page.getByTestId('folder-path').fill(missing);
  await page.getByTestId('folder-open').click();
  await page.getByTestId('folder-error').waitFor();
  assert.match(await text('folder-error'), /There is no folder/);
  assert.doesNotMatch(await text('folder-error'), RAW);
  assert.equal(await page.getByTestId('folder-browser').count(), 1, 'the browser stays open');
  assert.equal(await page.getByTestId('restore-folder').count(), 0, 'no folder was opened');
  await page.screenshot({ path: join(SCREENSHOTS, 'folder-browser-missing.png') });
  await browseTo(page, photos);
  await page.getByTestId('folder-open').click();
  await page.getByTestId('restore-photos').waitFor();
});

test('the model picker lists each model once, grouped by what it restores, the default first', async () => {
  const picker = page.getByTestId('restore-model');
  // The engine answers the list once it has started (a few seconds on native TensorFlow).
  await picker.locator('optgroup').first().waitFor({ state: 'attached' });
  const groups = await picker.locator('optgroup').evaluateAll((gs) => gs.map((g) => (g as HTMLOptGroupElement).label));
  assert.deepEqual(groups, ['Old photos', 'Noise', 'JPEG artefacts']);
  const options = await picker.locator('optgroup option').allTextContents();
  assert.equal(options.length, 3, `one entry per model: ${options.join(' | ')}`);
  // After the models, the choice of none (repair and tone alone).
  assert.deepEqual(await picker.locator('option').last().allTextContents(), ['None: only repair and tone']);
  assert.ok(!options.some((o) => /bundled/i.test(o)));
  assert.equal(await picker.inputValue(), 'old-photo');
  assert.match(options[0]!, /Old photo.*default/);
});

test('each model writes its own folder and the gallery shows the latest results', async () => {
  // The old-photo model comes with the tone stage (no detector is installed here for repair); a denoiser without.
  assert.equal(await page.getByTestId('restore-tone').isChecked(), true);
  assert.equal(await page.getByTestId('restore-repair').isChecked(), false);
  await page.getByTestId('restore-model').selectOption('tiny');
  assert.equal(await page.getByTestId('restore-tone').isChecked(), false);
  await page.getByTestId('restore-format').selectOption('png');
  await page.getByTestId('restore-start').click();
  await page.getByTestId('restore-summary').waitFor({ timeout: 120_000 });
  assert.match(await text('restore-summary'), /restored-tiny/);
  assert.match(await text('restore-failures'), /broken\.jpg: /);
  assert.doesNotMatch(await text('restore-failures'), RAW);
  const first = new Map<string, string>();
  for (const f of await readdir(`${photos}-restored-tiny`)) if (f.endsWith('.png')) first.set(f, await sha(join(`${photos}-restored-tiny`, f)));
  assert.deepEqual([...first.keys()].sort(), ['scan-0.png', 'scan-1.png']);
  const srcBefore = await page.locator('[data-testid=restore-results] img').first().getAttribute('src');

  await page.getByTestId('restore-model').selectOption('tiny2');
  await page.getByTestId('restore-start').click();
  await page.waitForFunction(() => /restored-tiny2/.test(document.querySelector('[data-testid=restore-summary]')?.textContent ?? ''), null, { timeout: 120_000 });
  for (const [f, hash] of first) assert.equal(await sha(join(`${photos}-restored-tiny`, f)), hash, `${f} of the first model was overwritten`);
  assert.deepEqual((await readdir(`${photos}-restored-tiny2`)).filter((f) => f.endsWith('.png')).sort(), ['scan-0.png', 'scan-1.png']);
  const srcAfter = await page.locator('[data-testid=restore-results] img').first().getAttribute('src');
  assert.notEqual(srcAfter, srcBefore, 'the gallery loads the new results');
  assert.match(decodeURIComponent(srcAfter ?? ''), /restored-tiny2/);
  await page.waitForFunction(() => Array.from(document.querySelectorAll('[data-testid=restore-results] img')).every((i) => (i as HTMLImageElement).naturalWidth > 0));
  await page.screenshot({ path: join(SCREENSHOTS, 'restore-per-model.png'), fullPage: true });
});

test('Compare names the model, reuses a version it has, keeps the photo in its pane and zooms in image pixels', async () => {
  await page.getByTestId('result-scan-0.png').click();
  await page.getByTestId('compare-stage').waitFor();
  await page.waitForFunction(() => Array.from(document.querySelectorAll('.pane img')).every((i) => (i as HTMLImageElement).naturalWidth > 0));
  const tags = await page.locator('.pane .tag').allTextContents();
  assert.deepEqual(tags, ['Original', 'Tiny JPEG fixer']);

  // The model that made these results again: the version it already has, not a duplicate.
  await page.getByTestId('compare-model').selectOption('tiny2');
  await page.getByTestId('compare-restore-with').click();
  await page.waitForFunction(() => !/Restoring/.test(document.querySelector('[data-testid=compare-restore-with]')?.textContent ?? ''));
  assert.equal(await page.getByTestId('compare-right').count(), 0, 'still two versions');
  // Another one: a third version, named.
  await page.getByTestId('compare-model').selectOption('tiny');
  await page.getByTestId('compare-restore-with').click();
  await page.getByTestId('compare-right').waitFor({ timeout: 120_000 });
  const names = await page.getByTestId('compare-right').locator('option').allTextContents();
  assert.deepEqual(names, ['Original', 'Tiny JPEG fixer', 'Tiny denoiser']);

  // 1:1 is 100%; fit shows what it is in image pixels (the 120 px photo is enlarged to fit the pane).
  await page.getByTestId('one-to-one').click();
  assert.equal(await text('zoom-label'), '100%');
  await page.getByTestId('zoom-fit').click();
  assert.ok(Number((await text('zoom-label')).replace('%', '')) > 100, `fit of a small photo: ${await text('zoom-label')}`);

  // Zoomed in, a long drag stops where the photo's edge meets the pane's.
  await page.getByTestId('compare-stage').focus();
  for (let i = 0; i < 4; i++) await page.keyboard.press('+');
  const pane = (await page.locator('.pane').first().boundingBox())!;
  await page.mouse.move(pane.x + pane.width / 2, pane.y + pane.height / 2);
  await page.mouse.down();
  await page.mouse.move(pane.x + pane.width * 3, pane.y + pane.height * 3, { steps: 6 });
  await page.mouse.up();
  const shown = await page.locator('.pane img').first().evaluate((img) => {
    const r = img.getBoundingClientRect();
    const p = img.closest('.pane')!.getBoundingClientRect();
    const i = img as HTMLImageElement;
    // Where the photo itself is drawn inside the (object-fit: contain) element.
    const fit = Math.min(p.width / i.naturalWidth, p.height / i.naturalHeight);
    const scale = r.width / p.width;
    const w = i.naturalWidth * fit * scale;
    const h = i.naturalHeight * fit * scale;
    const left = r.left + (r.width - w) / 2;
    const top = r.top + (r.height - h) / 2;
    return { left, top, paneLeft: p.left, paneTop: p.top };
  });
  assert.ok(shown.left <= shown.paneLeft + 1 && shown.top <= shown.paneTop + 1, `photo pulled out of its pane: ${JSON.stringify(shown)}`);
  await page.screenshot({ path: join(SCREENSHOTS, 'compare-named-models.png') });
});

test('opening an empty folder clears the last batch and says there is nothing to restore', async () => {
  await page.getByTestId('nav-restore').click();
  await page.getByTestId('restore-summary').waitFor();
  await page.getByTestId('restore-open').click();
  await browseTo(page, join(root, 'empty'));
  await page.getByTestId('folder-open').click();
  await page.getByTestId('restore-no-photos').waitFor();
  assert.equal(await page.getByTestId('restore-summary').count(), 0);
  assert.equal(await page.getByTestId('restore-results').count(), 0);
  assert.equal(await page.getByTestId('restore-failures').count(), 0);
});

test('a folder whose photos are in subfolders says so in the studio\'s words', async () => {
  await page.getByTestId('restore-open').click();
  await browseTo(page, join(root, 'nested'));
  await page.getByTestId('folder-open').click();
  // The empty folder's notice is on screen already: wait for this folder's.
  await page.waitForFunction(() => /Include subfolders/.test(document.querySelector('[data-testid=restore-no-photos]')?.textContent ?? ''));
  assert.match(await text('restore-no-photos'), /only 1 subfolder/);
  await page.waitForTimeout(1000); // the damage scores' answer
  const body = (await page.locator('main').textContent()) ?? '';
  assert.doesNotMatch(body, RAW);
});

test('Fix faded tones runs the tone stage after the model: the faded photo is redone with its range back', async () => {
  const faded = join(root, 'faded');
  await mkdir(faded);
  // A washed-out print: every value between 110 and 190 of 255, no black and no white.
  const width = 96;
  const height = 72;
  const pixels = Buffer.alloc(width * height * 3);
  for (let i = 0; i < pixels.length; i++) pixels[i] = 110 + Math.round(80 * (((i * 7919) % 1000) / 1000) ** 2);
  await sharp(pixels, { raw: { width, height, channels: 3 } }).png().toFile(join(faded, 'print.png'));
  // A restorer that changes nothing (a residual U-Net with zero weights), so what changes is the tone stage's.
  const passThrough = getArchitecture('unet').build({ filters: 4, depth: 1 }, { channels: 3 });
  for (const layer of passThrough.layers) layer.setWeights(layer.getWeights().map((w) => tf.zerosLike(w)));
  await savePackage(join(root, 'home', 'models'), passThrough, {
    name: 'Pass-through',
    id: 'pass',
    architecture: { id: 'unet', hyper: { filters: 4, depth: 1 } },
    restores: { preset: 'none', description: 'nothing' },
  });
  passThrough.dispose();
  await page.reload();
  await page.getByTestId('view-restore').waitFor();
  await page.getByTestId('restore-open').click();
  await browseTo(page, faded);
  await page.getByTestId('folder-open').click();
  await page.getByTestId('restore-model').selectOption('pass');
  await page.getByTestId('restore-format').selectOption('png');
  const range = async (): Promise<number> => {
    const { data } = await sharp(join(`${faded}-restored-pass`, 'print.png')).raw().toBuffer({ resolveWithObject: true });
    let lo = 255;
    let hi = 0;
    for (const v of data) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    return hi - lo;
  };
  await page.getByTestId('restore-start').click();
  await page.waitForFunction(() => /restored-pass/.test(document.querySelector('[data-testid=restore-summary]')?.textContent ?? ''), null, { timeout: 120_000 });
  const plain = await range();
  assert.equal(await page.getByTestId('restore-tone-strength').count(), 0, 'no strength until the stage is on');
  await page.getByTestId('restore-tone').check();
  await page.getByTestId('restore-tone-strength').waitFor();
  await page.getByTestId('restore-start').click();
  // The summary of the first run is still on screen: wait for the second run's output to be written.
  const out = join(`${faded}-restored-pass`, 'print.png');
  const firstWrite = (await stat(out)).mtimeMs;
  for (const until = Date.now() + 60_000; (await stat(out)).mtimeMs === firstWrite && Date.now() < until; ) await page.waitForTimeout(200);
  await page.waitForFunction(() => !document.querySelector('[data-testid=restore-cancel]'), null, { timeout: 120_000 });
  const toned = await range();
  assert.ok(toned > plain + 40, `the tone stage stretches the washed-out range: ${plain} without, ${toned} with`);
});

test('the tile size in Settings is what Restore asks for; a tile the engine cannot take is refused in words', async () => {
  await page.getByTestId('nav-settings').click();
  const tile = page.getByTestId('setting-tile');
  await tile.fill('32');
  await tile.dispatchEvent('change');
  await page.locator('[role=alert]').waitFor();
  assert.match((await page.locator('[role=alert]').textContent()) ?? '', /0 \(automatic\) or 64 to 8192 pixels/);
  await tile.fill('128');
  await tile.dispatchEvent('change');
  await page.waitForFunction(() => !document.querySelector('[role=alert]'));
  const sent: string[] = [];
  page.on('websocket', (ws) => ws.on('framesent', (frame) => typeof frame.payload === 'string' && sent.push(frame.payload)));
  // The socket is already open: watch frames through a reload so the listener sees them.
  await page.reload();
  await page.getByTestId('nav-restore').click();
  await page.getByTestId('view-restore').waitFor();
  await page.getByTestId('restore-open').click();
  await browseTo(page, photos);
  await page.getByTestId('folder-open').click();
  await page.getByTestId('restore-model').selectOption('tiny');
  await page.getByTestId('restore-start').click();
  await page.getByTestId('restore-summary').waitFor({ timeout: 120_000 });
  const start = sent.find((f) => f.includes('restore.start'));
  assert.ok(start, 'restore.start was sent');
  assert.match(start, /"tile":128/);
  await page.getByTestId('nav-settings').click();
  await tile.fill('0');
  await tile.dispatchEvent('change');
  await page.getByTestId('nav-restore').click();
});

test('no page errors', () => {
  // A broken photo's thumbnail fails to load (415); that is the only error the page may show.
  assert.deepEqual(errors.filter((e) => !/status of 415/.test(e)), []);
});
