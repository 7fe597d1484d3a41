// Restore's repair and tone stages follow the model picked until the user sets them: an old-photo restorer
// (or no model, repair and tone alone) gets both at half strength, what bench:old-photo measures; a denoiser
// gets neither. A stage the user has set stays as they set it whichever model they pick next.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { nextTick } from 'vue';
import { NO_MODEL } from '#shared/restore';
import { saveTinyDenoiser, startStudio, type Studio } from './harness';

let studio: Studio;
let modelsDir: string;
const bundledBefore = process.env.STUDIO_BUNDLED_MODELS;
before(async () => {
  studio = await startStudio();
  // The models of this test only: the bundled ones (a detector among them) would answer for it.
  process.env.STUDIO_BUNDLED_MODELS = join(studio.root, 'no-bundled-models');
  modelsDir = join(studio.home, 'models');
  await saveTinyDenoiser(modelsDir);
  await saveSmall('unet', 'oldie', 'restore', { filters: 4, depth: 1 }, 'old-photo-restore');
});
after(async () => {
  if (bundledBefore === undefined) delete process.env.STUDIO_BUNDLED_MODELS;
  else process.env.STUDIO_BUNDLED_MODELS = bundledBefore;
  await studio.stop();
});

async function saveSmall(arch: string, id: string, task: 'restore' | 'detect', hyper: Record<string, number>, preset: string | null): Promise<void> {
  const { getArchitecture } = await import('../../../src/main/engine/models');
  const { savePackage } = await import('../../../src/main/engine/package');
  const model = getArchitecture(arch).build(hyper, { channels: 3 });
  try {
    await savePackage(modelsDir, model, { name: id, id, task, architecture: { id: arch, hyper }, ...(preset ? { restores: { preset, description: '' } } : {}) });
  } finally {
    model.dispose();
  }
}

async function pick(model: string): Promise<void> {
  const { useRestoreStore } = await import('../../../src/renderer/src/stores/restore');
  useRestoreStore().options.model = model;
  await nextTick();
}

test('repair and tone are on for old-photo restorers and off for a denoiser, until the user sets them', async () => {
  const { useRestoreStore, OLD_PHOTO_STAGES } = await import('../../../src/renderer/src/stores/restore');
  const restore = useRestoreStore();
  const stages = (): [number, number] => [restore.options.repair, restore.options.tone];

  // No detector installed: tone alone for an old photo; repair cannot run.
  await restore.loadModels();
  await pick('oldie');
  assert.deepEqual(stages(), [0, OLD_PHOTO_STAGES.tone]);

  // A detector arrives (imported in Models): repair joins in.
  await saveSmall('damage-unet', 'detector', 'detect', { filters: 4, depth: 1 }, null);
  await restore.loadModels();
  assert.equal(restore.options.repairModel, 'detector');
  assert.deepEqual(stages(), [OLD_PHOTO_STAGES.repair, OLD_PHOTO_STAGES.tone]);

  await pick('tiny');
  assert.deepEqual(stages(), [0, 0], 'a denoiser: neither stage');
  await pick(NO_MODEL);
  assert.deepEqual(stages(), [OLD_PHOTO_STAGES.repair, OLD_PHOTO_STAGES.tone], 'no model: repair and tone alone');

  // The user sets tone; it stays through model changes, while repair still follows the model.
  restore.options.tone = 1;
  await pick('tiny');
  assert.deepEqual(stages(), [0, 1]);
  await pick('oldie');
  assert.deepEqual(stages(), [OLD_PHOTO_STAGES.repair, 1]);
  // And a stage the user switched off stays off.
  restore.options.repair = 0;
  await pick('tiny');
  await pick('oldie');
  assert.deepEqual(stages(), [0, 1]);
});
