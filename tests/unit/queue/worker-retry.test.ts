// A worker's job, retried after the worker died at each point of its write: the photo is written once. The
// worst moment is after the output's rename and before the 'done' marker: the retry must see that the file in
// place is the one it was about to write (its hash is in the 'writing' marker) and leave it alone.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import '@tensorflow/tfjs-backend-cpu';
import { readdir, readFile, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { identityModel, saveModelFolder, tempDir, writePhoto } from '../restore/helpers';
import { MARKER_DIR, type RestoreJob } from '../../../src/main/queue/jobs';
import { ModelCache, processRestoreJob } from '../../../src/main/queue/worker';
import { useTestBackend } from '../../helpers/native';

let root: string;
let cleanup: () => Promise<void>;
let models: ModelCache;
let job: RestoreJob;
const ID = 'pretry';

before(async () => {
  await useTestBackend();
  ({ dir: root, cleanup } = await tempDir('studio-worker-retry-'));
  const modelDir = join(root, 'model');
  await saveModelFolder(identityModel(), modelDir);
  await writePhoto(join(root, 'in', 'a.png'), 40, 30, { seed: 3 });
  models = new ModelCache();
  const fingerprint = (await models.get(modelDir)).fingerprint;
  job = { root: join(root, 'in'), file: 'a.png', out: join(root, 'out'), output: 'a.png', model: modelDir, fingerprint, format: 'png', quality: 90 };
});

after(async () => {
  await models.dispose();
  await cleanup();
});

const markerFile = (): string => join(job.out, MARKER_DIR, `${ID}.json`);
const outputFile = (): string => join(job.out, job.output);

test('a retry after the output was renamed in but before it was marked done does not write it again', async () => {
  const first = await processRestoreJob(ID, job, models);
  assert.equal(first.alreadyDone, false);
  const written = await stat(outputFile());
  // The worker died right after renaming the output: the marker still says 'writing'.
  const marker = JSON.parse(await readFile(markerFile(), 'utf8')) as Record<string, unknown>;
  await writeFile(markerFile(), JSON.stringify({ ...marker, state: 'writing' }));

  const retry = await processRestoreJob(ID, job, models);
  assert.equal(retry.alreadyDone, true, 'the retry recognised the finished output');
  const after = await stat(outputFile());
  assert.equal(after.ino, written.ino, 'the output was not replaced');
  assert.equal(after.mtimeMs, written.mtimeMs);
  assert.equal(JSON.parse(await readFile(markerFile(), 'utf8')).state, 'done', 'the marker is completed');
});

test('a retry after the worker died before the rename writes the photo (the output is missing)', async () => {
  const marker = JSON.parse(await readFile(markerFile(), 'utf8')) as Record<string, unknown>;
  await writeFile(markerFile(), JSON.stringify({ ...marker, state: 'writing' }));
  await unlink(outputFile());
  const retry = await processRestoreJob(ID, job, models);
  assert.equal(retry.alreadyDone, false);
  assert.ok((await stat(outputFile())).size > 0);
});

test('a file under the output name that is not the bytes the marker names is written over, not taken as done', async () => {
  const marker = JSON.parse(await readFile(markerFile(), 'utf8')) as Record<string, unknown>;
  await writeFile(markerFile(), JSON.stringify({ ...marker, state: 'writing' }));
  const good = await readFile(outputFile());
  const damaged = Buffer.from(good);
  const at = damaged.length - 5;
  damaged.writeUInt8(damaged.readUInt8(at) ^ 0xff, at); // same size, other bytes
  await writeFile(outputFile(), damaged);
  const retry = await processRestoreJob(ID, job, models);
  assert.equal(retry.alreadyDone, false);
  assert.deepEqual(await readFile(outputFile()), good);
  assert.deepEqual((await readdir(job.out)).filter((n) => n.startsWith('.a.png')), [], 'no temp file remains');
});
