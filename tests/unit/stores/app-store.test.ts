// The app store over the real services: a settings patch changes what it names and keeps every other
// setting, on screen and on disk (a reload sees it); a bad value is refused and changes nothing.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startStudio, until, type Studio } from './harness';

let studio: Studio;
before(async () => {
  studio = await startStudio();
});
after(async () => {
  await studio.stop();
});

test('settings patches keep the other settings, on screen and on disk', async () => {
  const { useAppStore } = await import('../../../src/renderer/src/stores/app');
  const app = useAppStore();
  app.start();
  await until(() => app.settings !== null, 'the settings');
  await app.updateSettings({ quality: 80, outputFormat: 'png' });
  await app.updateSettings({ theme: 'dark' });
  await app.updateSettings({ tileSize: 512 });
  assert.equal(app.settings!.quality, 80);
  assert.equal(app.settings!.outputFormat, 'png');
  assert.equal(app.settings!.theme, 'dark');
  assert.equal(app.settings!.tileSize, 512);
  assert.equal((globalThis as unknown as { document: { documentElement: { dataset: Record<string, string> } } }).document.documentElement.dataset.theme, 'dark');
  const saved = JSON.parse(await readFile(join(studio.home, 'settings.json'), 'utf8')) as Record<string, unknown>;
  assert.equal(saved.quality, 80);
  assert.equal(saved.outputFormat, 'png');
  assert.equal(saved.theme, 'dark');
  assert.equal(saved.tileSize, 512);
  // A value the engine cannot take is refused in words, and nothing else moves.
  await assert.rejects(app.updateSettings({ tileSize: 10 }), /tile/i);
  assert.equal(app.settings!.tileSize, 512);
  assert.equal(app.settings!.quality, 80);
});
