import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { openDataset, type Dataset } from '../../../src/main/engine/data/dataset';
import { StreamingPatchSampler } from '../../../src/main/engine/data/sampler';
import { presetRecipe } from '../../../src/main/engine/data/synth/presets';
import { cleanFolder, tempDir } from './fixtures';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

let dataset: Dataset;
let cleanup: () => Promise<void> = async () => {};

before(async () => {
  const t = await tempDir();
  cleanup = t.cleanup;
  await cleanFolder(t.dir, 30, 96);
  dataset = await openDataset(t.dir);
});

after(() => cleanup());

function heapMiB(): number {
  gc();
  return process.memoryUsage().heapUsed / 2 ** 20;
}

for (const recipe of ['none', 'gaussian-blind'] as const) {
  test(`memory stays bounded over many epochs (${recipe})`, async () => {
    const cacheImages = 4;
    const sampler = new StreamingPatchSampler({
      items: dataset.items,
      recipe: presetRecipe(recipe),
      patchSize: 32,
      batchSize: 8,
      patchesPerImage: 4,
      cacheImages,
      prefetchBatches: 3,
      seed: 2,
    });
    try {
      // Warm up, then measure over ~12 epochs (30 images × 4 patches / 8 per batch = 15 batches per epoch).
      for (let i = 0; i < 15; i++) await sampler.nextBatch();
      const start = heapMiB();
      let maxHeld = 0;
      let maxEntries = 0;
      for (let i = 0; i < 180; i++) {
        await sampler.nextBatch();
        const s = sampler.stats();
        maxHeld = Math.max(maxHeld, s.heldBytes);
        maxEntries = Math.max(maxEntries, s.cacheEntries);
      }
      const end = heapMiB();
      const s = sampler.stats();
      assert.ok(s.epoch >= 10, `ran ${s.epoch} epochs`);
      assert.ok(maxEntries <= cacheImages, `cache entries ${maxEntries}`);
      // 4 cached pairs of ~112x108 + look-ahead + pool + queue: well under 4 MiB.
      assert.ok(maxHeld < 4 * 2 ** 20, `held ${maxHeld} bytes`);
      assert.ok(s.queued <= 3);
      assert.ok(s.decodes > 30 * 5, 'images are decoded again once evicted (the dataset is not held)');
      assert.ok(end - start < 16, `heap grew ${(end - start).toFixed(1)} MiB`);
    } finally {
      await sampler.close();
    }
  });
}
