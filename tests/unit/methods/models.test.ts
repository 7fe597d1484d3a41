// The model library through the engine contract: list, show, import (zip, folder, Keras .h5), export,
// rename, delete, the zoo summary, and clear errors for broken packages and bad files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, readFile, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EngineHost, inProcessLauncher } from '../../../src/main/services/engine-host';
import { savePackage, saveModelFiles } from '../../../src/main/engine/package/index';
import { ARCHITECTURE_IDS } from '../../../src/main/engine/models/index';
import { StudioError } from '#shared/rpc/errors';
import { identityModel, tempDir } from './fixtures';
import { conv2dConfig, mulberry32, randomValues, writeKerasModelFile } from '../keras/keras-files';
import { TEST_BACKEND } from '../../helpers/native';

const { dir: home, cleanup } = await tempDir('studio-models-job-');
process.env.STUDIO_HOME = home;
process.env.STUDIO_BACKEND = TEST_BACKEND;
const engine = new EngineHost(await inProcessLauncher());
await engine.call('engine.info', {});
const modelsDir = join(home, 'models');
{
  const model = identityModel();
  await savePackage(modelsDir, model, { name: 'Identity', id: 'identity', architecture: { id: 'external' } });
  model.dispose();
}

test.after(async () => {
  engine.dispose();
  await cleanup();
});

async function rejectsWith(promise: Promise<unknown>, code: string, pattern: RegExp): Promise<void> {
  await assert.rejects(promise, (e: unknown) => {
    assert.ok(e instanceof StudioError, String(e));
    assert.equal(e.code, code, e.message);
    assert.match(e.message, pattern);
    return true;
  });
}

test('list, show, export, import, rename and delete a package', async () => {
  const list = await engine.call('models.list', { modelsDir });
  assert.deepEqual(
    list.map((m) => [m.id, m.name, m.arch, m.params, m.path, m.error]),
    [['identity', 'Identity', 'external', 12, join(modelsDir, 'identity'), null]],
  );
  const shown = await engine.call('models.show', { id: 'identity', modelsDir });
  assert.equal(shown.card.name, 'Identity');
  assert.deepEqual(shown.files.map((f) => f.name), ['card.json', 'model.json', 'weights.bin']);
  // A folder path works as well as an id.
  assert.equal((await engine.call('models.show', { id: join(modelsDir, 'identity') })).id, 'identity');

  const zip = join(home, 'identity.zip');
  const exported = await engine.call('models.export', { id: 'identity', out: zip, modelsDir });
  assert.equal(exported.path, zip);
  assert.equal(exported.bytes, (await readFile(zip)).byteLength);

  const imported = await engine.call('models.import', { source: zip, modelsDir });
  assert.equal(imported.kind, 'zip');
  assert.equal(imported.id, 'identity-2');
  const renamed = await engine.call('models.rename', { id: 'identity-2', name: '  Second copy ', modelsDir });
  assert.equal(renamed.name, 'Second copy');
  assert.equal((await engine.call('models.list', { modelsDir })).find((m) => m.id === 'identity-2')?.name, 'Second copy');
  const deleted = await engine.call('models.delete', { id: 'identity-2', modelsDir });
  assert.equal(deleted.path, join(modelsDir, 'identity-2'));
  assert.equal(existsSync(deleted.path), false);
  await rejectsWith(engine.call('models.delete', { id: 'identity-2', modelsDir }), 'MODEL_NOT_FOUND', /no model "identity-2".*\(models: identity\)/);
});

test('import a tfjs layers folder and a Keras .h5 model', async () => {
  const folder = join(home, 'tfjs-folder');
  await mkdir(folder, { recursive: true });
  const model = identityModel();
  await saveModelFiles(model, folder);
  model.dispose();
  const fromFolder = await engine.call('models.import', { source: folder, name: 'From folder', modelsDir });
  assert.equal(fromFolder.kind, 'folder');
  assert.equal(fromFolder.card.source, 'imported-tfjs');

  const rand = mulberry32(3);
  const h5 = join(home, 'tiny_denoiser.h5');
  await writeKerasModelFile(
    h5,
    {
      class_name: 'Sequential',
      config: {
        name: 'sequential',
        layers: [
          { class_name: 'InputLayer', config: { batch_input_shape: [null, null, null, 3], dtype: 'float32', name: 'input' } },
          { class_name: 'Conv2D', config: conv2dConfig('conv2d', 3, 3, 'linear') },
        ],
      },
    },
    [{ name: 'conv2d', weights: [{ name: 'conv2d/kernel:0', shape: [3, 3, 3, 3], values: randomValues(81, rand) }, { name: 'conv2d/bias:0', shape: [3], values: randomValues(3, rand) }] }],
  );
  const fromH5 = await engine.call('models.import', { source: h5, modelsDir });
  assert.equal(fromH5.kind, 'keras');
  assert.equal(fromH5.id, 'tiny_denoiser');
  assert.equal(fromH5.card.source, 'imported-keras');
  assert.equal(fromH5.card.params, 84);
  assert.equal((await engine.call('models.show', { id: 'tiny_denoiser', modelsDir })).card.task, 'restore');
});

test('broken packages are listed with their error; show, export and import fail with MODEL_INVALID', async () => {
  const root = join(home, 'broken-models');
  const model = identityModel();
  await savePackage(root, model, { name: 'Good', id: 'good', architecture: { id: 'external' } });
  await savePackage(root, model, { name: 'Bad JSON', id: 'bad-json', architecture: { id: 'external' } });
  await savePackage(root, model, { name: 'Short weights', id: 'short-weights', architecture: { id: 'external' } });
  model.dispose();
  await writeFile(join(root, 'bad-json', 'card.json'), '{ "formatVersion": 1, ');
  await truncate(join(root, 'short-weights', 'weights.bin'), 10);

  const list = await engine.call('models.list', { modelsDir: root });
  const byId = new Map(list.map((m) => [m.id, m]));
  assert.match(byId.get('bad-json')?.error ?? '', /card\.json in .*bad-json is not valid JSON/);
  assert.equal(byId.get('bad-json')?.name, null);
  assert.equal(byId.get('good')?.error, null);

  await rejectsWith(engine.call('models.show', { id: 'bad-json', modelsDir: root }), 'MODEL_INVALID', /card\.json .* not valid JSON/);
  await rejectsWith(engine.call('models.show', { id: 'short-weights', modelsDir: root }), 'MODEL_INVALID', /weights\.bin/);
  await rejectsWith(engine.call('models.export', { id: 'short-weights', out: join(home, 'x.zip'), modelsDir: root }), 'MODEL_INVALID', /weights\.bin/);
  await rejectsWith(engine.call('models.import', { source: join(root, 'bad-json'), modelsDir: root }), 'MODEL_INVALID', /card\.json/);

  const garbage = join(home, 'garbage.bin');
  await writeFile(garbage, 'not a model at all');
  await rejectsWith(engine.call('models.import', { source: garbage, modelsDir }), 'MODEL_INVALID', /garbage\.bin: is neither a model package zip, a Keras \.h5 file nor a model folder/);
  const fakeH5 = join(home, 'fake.h5');
  await writeFile(fakeH5, 'not hdf5');
  await rejectsWith(engine.call('models.import', { source: fakeH5, modelsDir }), 'MODEL_INVALID', /fake\.h5: is not an HDF5 file/);
  const badZip = join(home, 'bad.zip');
  await writeFile(badZip, Buffer.concat([Buffer.from('PK\x03\x04'), Buffer.alloc(40)]));
  await rejectsWith(engine.call('models.import', { source: badZip, modelsDir }), 'MODEL_INVALID', /bad\.zip/);
  await rejectsWith(engine.call('models.import', { source: join(home, 'missing.zip'), modelsDir }), 'NOT_FOUND', /missing\.zip/);
  await rejectsWith(engine.call('models.show', { id: 'nope', modelsDir }), 'MODEL_NOT_FOUND', /nope/);
  await rejectsWith(engine.call('models.rename', { id: 'identity', name: '', modelsDir }), 'BAD_INPUT', /name/);
});

test('models.architectures lists the zoo with parameter counts and multiply-adds per pixel', async () => {
  const zoo = await engine.call('models.architectures', {});
  assert.deepEqual(zoo.map((a) => a.id), [...ARCHITECTURE_IDS]);
  const dncnn = zoo.find((a) => a.id === 'dncnn')!;
  assert.equal(dncnn.params, 210483);
  assert.ok(dncnn.macsPerPixel > 200_000);
  assert.equal(zoo.find((a) => a.id === 'unet')!.requiredMultiple, 8);
});

test('models.layers summarises an architecture or an installed model', async () => {
  const arch = await engine.call('models.layers', { arch: 'dncnn', hyper: { depth: 3, filters: 8 } });
  assert.deepEqual(arch.map((l) => l.className), ['InputLayer', 'Conv2D', 'Conv2D', 'Conv2D', 'Subtract']);
  assert.equal(arch.reduce((a, l) => a + l.params, 0), 1027);
  const installed = await engine.call('models.layers', { id: 'identity', modelsDir });
  assert.deepEqual(installed.map((l) => l.className), ['InputLayer', 'Conv2D']);
  assert.deepEqual([installed[1]!.name, installed[1]!.params, installed[1]!.outputShape], ['identity_conv', 12, [null, null, 3]]);
  await rejectsWith(engine.call('models.layers', { id: 'nope', modelsDir }), 'MODEL_NOT_FOUND', /nope/);
});

test('bundled models are listed, shown and exported, but not renamed or deleted; an own model of the same id wins', async () => {
  const shipped = join(home, 'shipped');
  const model = identityModel();
  await savePackage(shipped, model, { name: 'Shipped', id: 'shipped', architecture: { id: 'external' } });
  await savePackage(shipped, model, { name: 'Shipped identity', id: 'identity', architecture: { id: 'external' } });
  model.dispose();
  const before = process.env.STUDIO_BUNDLED_MODELS;
  process.env.STUDIO_BUNDLED_MODELS = shipped;
  try {
    const list = await engine.call('models.list', { modelsDir });
    const row = list.find((m) => m.id === 'shipped');
    assert.equal(row?.bundled, true);
    assert.equal(row?.path, join(shipped, 'shipped'));
    // The user's "identity" hides the bundled one of the same id.
    assert.deepEqual(list.filter((m) => m.id === 'identity').map((m) => [m.name, m.bundled]), [['Identity', false]]);

    const shown = await engine.call('models.show', { id: 'shipped', modelsDir });
    assert.equal(shown.bundled, true);
    assert.equal(shown.card.name, 'Shipped');
    const zip = join(home, 'shipped.zip');
    assert.ok((await engine.call('models.export', { id: 'shipped', out: zip, modelsDir })).bytes > 0);

    await rejectsWith(engine.call('models.rename', { id: 'shipped', name: 'Mine', modelsDir }), 'MODEL_READ_ONLY', /"shipped" is built into the studio and can't be renamed/);
    await rejectsWith(engine.call('models.delete', { id: 'shipped', modelsDir }), 'MODEL_READ_ONLY', /can't be deleted\. Export it/);
    assert.ok(existsSync(join(shipped, 'shipped', 'card.json')));
  } finally {
    if (before === undefined) delete process.env.STUDIO_BUNDLED_MODELS;
    else process.env.STUDIO_BUNDLED_MODELS = before;
  }
});
