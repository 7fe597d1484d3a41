/// <reference lib="dom" />
// Restore on many machines from the app, in Chromium against browser mode with a real redis-server: the Redis
// URL is entered in Settings, the opened folder (with a broken file in it) is sent to the queue from the Restore
// view, a real `studio worker` process restores it, and the view shows the cluster's progress until the queue
// is empty: every good photo completed, the broken one failed with its reason, the outputs on disk.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import type { Page } from 'playwright-core';
import { getArchitecture } from '../../src/main/engine/models';
import { savePackage } from '../../src/main/engine/package';
import { SCREENSHOTS } from '../helpers/browser';
import { tempDir, writeScanFolder } from '../helpers/fixtures';
import { startRedis, type RedisServer } from '../helpers/redis';
import { browseTo, openStudio, textOf, type StudioPage } from '../helpers/studio-page';
import { studioChild } from '../unit/restore/helpers';

const GOOD = 5;

let studio: StudioPage;
let page: Page;
let errors: string[];
let cleanup: () => Promise<void>;
let photos: string;
let models: string;
let redis: RedisServer;
let worker: ChildProcess | null = null;
let workerLog = '';

before(async () => {
  const tmp = await tempDir();
  cleanup = tmp.cleanup;
  process.env.STUDIO_HOME = join(tmp.dir, 'home');
  photos = join(tmp.dir, 'scans');
  await writeScanFolder(photos, GOOD);

  models = join(tmp.dir, 'home', 'models');
  await tf.setBackend('cpu');
  const hyper = { depth: 3, filters: 8 };
  const model = getArchitecture('dncnn').build(hyper, { channels: 3 });
  await savePackage(models, model, { name: 'Tiny denoiser', id: 'tiny', architecture: { id: 'dncnn', hyper } });
  model.dispose();

  redis = await startRedis();
  studio = await openStudio({ viewport: { width: 1280, height: 1000 }, waitFor: 'view-restore' });
  ({ page, errors } = studio);
});

after(async () => {
  if (worker && worker.exitCode === null && worker.signalCode === null) worker.kill('SIGKILL');
  await studio?.close();
  redis?.kill();
  await cleanup?.();
});

test('without a Redis URL the Restore view says where to set one', async () => {
  await page.getByTestId('restore-open').click();
  await browseTo(page, photos);
  await page.getByTestId('folder-open').click();
  await page.getByTestId('restore-photos').waitFor();
  await page.getByTestId('queue-unset').waitFor();
  assert.match(await textOf(page, 'queue-unset'), /Redis URL in Settings/);
});

test('Settings refuses a Redis URL that is not one, in words, and keeps a good one', async () => {
  await page.getByTestId('nav-settings').click();
  await page.getByTestId('setting-redis').fill('localhost:6379');
  await page.getByTestId('setting-redis').press('Enter');
  await page.getByTestId('setting-redis').blur();
  await page.locator('[data-testid=view-settings] .banner.error').waitFor();
  assert.match((await page.locator('[data-testid=view-settings] .banner.error').textContent()) ?? '', /redis:\/\/ or rediss:\/\//);
  await page.getByTestId('setting-redis').fill(redis.url);
  await page.getByTestId('setting-redis').blur();
  await page.waitForFunction(() => document.querySelector('[data-testid=view-settings] .banner.error') === null);
  await page.reload();
  await page.getByTestId('nav-settings').click();
  await page.waitForFunction((url) => (document.querySelector('[data-testid=setting-redis]') as HTMLInputElement | null)?.value === url, redis.url);
});

test('the opened folder is sent to the queue, a worker restores it, and the progress reaches completed', async () => {
  await page.getByTestId('nav-restore').click();
  await page.getByTestId('restore-open').click();
  await browseTo(page, photos);
  await page.getByTestId('folder-open').click();
  await page.getByTestId('restore-photos').waitFor();
  await page.getByTestId('restore-model').selectOption('tiny');
  await page.getByTestId('queue-send').click();
  await page.getByTestId('queue-sent').waitFor({ timeout: 60_000 });
  assert.match(await textOf(page, 'queue-sent'), new RegExp(`${GOOD + 1} photos sent; results go to .*scans-restored`));
  // Nothing restores until a worker comes: all waiting.
  await page.getByTestId('queue-progress').waitFor();
  assert.equal(await textOf(page, 'queue-waiting'), String(GOOD + 1));
  assert.equal(await textOf(page, 'queue-completed'), '0');

  worker = studioChild(['worker', '--redis', redis.url, '--models-dir', models]);
  worker.stderr!.on('data', (chunk: Buffer) => (workerLog += chunk.toString()));
  worker.stdout!.resume();
  await page.getByTestId('queue-finished').waitFor({ timeout: 120_000 }).catch((error: Error) => {
    throw new Error(`${error.message}\nworker:\n${workerLog}`);
  });
  assert.equal(await textOf(page, 'queue-completed'), String(GOOD));
  assert.equal(await textOf(page, 'queue-failed'), '1');
  assert.equal(await textOf(page, 'queue-waiting'), '0');
  assert.equal(await textOf(page, 'queue-active'), '0');
  assert.match(await textOf(page, 'queue-finished'), new RegExp(`${GOOD} restored, 1 failed`));
  assert.match(await textOf(page, 'queue-failures'), /broken\.jpg: .+/);
  assert.match(await textOf(page, 'queue-rate'), /photos\/s|—/);
  await page.getByTestId('queue-panel').scrollIntoViewIfNeeded();
  await page.screenshot({ path: join(SCREENSHOTS, 'restore-queue.png'), fullPage: true });

  const outputs = (await readdir(`${photos}-restored`)).filter((f) => f.endsWith('.png')).sort();
  assert.deepEqual(outputs, Array.from({ length: GOOD }, (_, i) => `scan-${i}.png`));
  assert.match(workerLog, /FAILED broken\.jpg: /);

  const exited = new Promise((resolve) => worker!.once('exit', resolve));
  worker.kill('SIGTERM');
  assert.equal(await exited, 0, workerLog);
  // The broken file's thumbnail is refused (415), as in the local restore test; nothing else may fail.
  assert.deepEqual(errors.filter((e) => !/status of 415/.test(e)), []);
});
