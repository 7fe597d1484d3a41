import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { SettingsStore } from '../../src/main/services/settings';
import { tempDir } from '../helpers/fixtures';
import { isAtomicTempName } from '../../src/main/fs-atomic';

test('settings persist, validate, and survive a damaged file', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const store = SettingsStore.inDataDir(dir);
    assert.equal((await store.get()).backend, 'auto');
    await store.update({ tileSize: 512, theme: 'dark' });
    const reread = await SettingsStore.inDataDir(dir).get();
    assert.equal(reread.tileSize, 512);
    assert.equal(reread.theme, 'dark');
    await assert.rejects(store.update({ quality: 500 }));
    assert.equal(JSON.parse(await readFile(join(dir, 'settings.json'), 'utf8')).quality, 92);
    assert.deepEqual((await readdir(dir)).filter((f) => isAtomicTempName(f)), [], 'no temp files left');

    await writeFile(join(dir, 'settings.json'), '{ not json');
    const recovered = await SettingsStore.inDataDir(dir).get();
    assert.equal(recovered.theme, 'system');
    assert.equal(await readFile(join(dir, 'settings.json.bad'), 'utf8'), '{ not json', 'the damaged file is kept aside');
  } finally {
    await cleanup();
  }
});
