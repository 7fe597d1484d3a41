// The train store over the real services: a run on a folder of clean photos reports its progress from the
// events (batches, then epochs), Stop says "stopping…" until the run ends at an epoch boundary, and the end
// is said in words with the saved model; a finished run's wizard starts again under a free name.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { cleanFolder } from '../methods/fixtures';
import { startStudio, until, type Studio } from './harness';

let studio: Studio;
let data: string;
before(async () => {
  studio = await startStudio();
  data = join(studio.home, 'clean-photos');
  await cleanFolder(data, 6, 48, 3);
});
after(async () => {
  await studio.stop();
});

test('training progress, stop and the end of the run, as the Train view shows them', async () => {
  const { useTrainStore } = await import('../../../src/renderer/src/stores/train');
  const train = useTrainStore();
  await train.chooseData(data);
  assert.equal(train.error, null, train.error ?? '');
  assert.equal(train.report?.kind, 'clean');
  assert.equal(train.needsPreset, true);
  await train.loadArchitectures();
  await train.chooseArch('dncnn');
  train.hyper = { depth: 3, filters: 8 };
  Object.assign(train.settings, { name: 'store-run', epochs: 20, stepsPerEpoch: 3, batchSize: 2, patch: 32, warmup: 0, earlyStopping: false });
  assert.equal(train.phase, '—');
  assert.equal(train.progress, 0);

  await train.start();
  assert.equal(train.error, null, train.error ?? '');
  await until(() => train.history.length >= 1, 'the first epoch');
  assert.equal(train.phase, 'training');
  assert.ok(train.progress > 0 && train.progress < 1, `progress ${train.progress}`);
  assert.ok(train.batches.length >= 3);

  await train.stop();
  assert.equal(train.error, null, train.error ?? '');
  assert.equal(train.phase, 'stopping…');
  await until(() => train.done !== null, 'the end of the run');
  assert.equal(train.phase, 'stopped');
  const epochs = train.history.length;
  assert.ok(epochs >= 1 && epochs < 20, `stopped after ${epochs} epochs`);
  assert.equal(train.doneMessage, `Stopped after epoch ${epochs} of 20; saved “store-run”.`);
  assert.equal(train.progress, epochs / 20);

  // The wizard again: the name just used is taken now, so the next run gets another.
  await train.newTraining();
  assert.equal(train.job, null);
  assert.equal(train.phase, '—');
  assert.equal(train.settings.name, 'store-run-2');
});
