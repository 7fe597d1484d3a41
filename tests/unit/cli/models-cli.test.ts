// `studio models list|show|import|export|delete|rename` as a user runs them, including a Keras .h5 import
// and the errors of a corrupt package.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import '@tensorflow/tfjs-backend-cpu';
import { savePackage } from '../../../src/main/engine/package/index';
import { getArchitecture } from '../../../src/main/engine/models/index';
import { identityModel, tempDir } from '../methods/fixtures';
import { conv2dConfig, mulberry32, randomValues, writeKerasModelFile } from '../keras/keras-files';
import { jsonLines, runCli } from './run-cli';
import { modelsCommand } from '../../../src/main/cli/commands/models';
import { StudioError } from '#shared/rpc/errors';
import { useTestBackend } from '../../helpers/native';

await useTestBackend();
const { dir: home, cleanup } = await tempDir('studio-cli-models-');
test.after(cleanup);
const env = { STUDIO_HOME: home };
process.env.STUDIO_HOME = home; // the in-process runs below use this data folder
const modelsDir = join(home, 'models');
{
  const model = identityModel();
  await savePackage(modelsDir, model, { name: 'Identity', id: 'identity', architecture: { id: 'external' } });
  model.dispose();
  const dncnn = getArchitecture('dncnn').build({ depth: 3, filters: 8 });
  await savePackage(modelsDir, dncnn, { name: 'Small DnCNN', id: 'small-dncnn', architecture: { id: 'dncnn', hyper: { depth: 3, filters: 8 } } });
  dncnn.dispose();
}
const h5 = join(home, 'keras_denoiser.h5');
{
  const rand = mulberry32(5);
  await writeKerasModelFile(
    h5,
    {
      class_name: 'Sequential',
      config: {
        name: 'sequential',
        layers: [
          { class_name: 'InputLayer', config: { batch_input_shape: [null, null, null, 3], dtype: 'float32', name: 'input' } },
          { class_name: 'Conv2D', config: conv2dConfig('conv2d', 4, 3, 'relu') },
          { class_name: 'Conv2D', config: conv2dConfig('conv2d_1', 3, 3, 'linear') },
        ],
      },
    },
    [
      { name: 'conv2d', weights: [{ name: 'conv2d/kernel:0', shape: [3, 3, 3, 4], values: randomValues(108, rand) }, { name: 'conv2d/bias:0', shape: [4], values: randomValues(4, rand) }] },
      { name: 'conv2d_1', weights: [{ name: 'conv2d_1/kernel:0', shape: [3, 3, 4, 3], values: randomValues(108, rand) }, { name: 'conv2d_1/bias:0', shape: [3], values: randomValues(3, rand) }] },
    ],
  );
}

/** Runs `studio models …` in this process (the same code the CLI runs), capturing its output. */
async function models(...args: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await modelsCommand.run(args, { out: (l) => out.push(l), err: (l) => err.push(l) }, new AbortController().signal);
  return { code, out, err };
}

async function modelsFails(args: string[], code: string, pattern: RegExp): Promise<void> {
  await assert.rejects(models(...args), (e: unknown) => {
    assert.ok(e instanceof StudioError, String(e));
    assert.equal(e.code, code, e.message);
    assert.match(e.message, pattern);
    return true;
  });
}

test('studio models list --json prints one line; import of a Keras .h5 prints the new model (real processes)', async () => {
  const [list, imported] = await Promise.all([runCli(['models', 'list', '--json'], env), runCli(['models', 'import', h5, '--backend', 'cpu', '--json'], env)]);
  assert.equal(list.status, 0, list.stderr);
  assert.equal(list.stdout.trim().split('\n').length, 1);
  const rows = JSON.parse(list.stdout) as Record<string, unknown>[];
  // The import runs at the same time: the list has the two saved models, and maybe the imported one.
  assert.deepEqual(rows.filter((r) => r.id !== 'keras_denoiser'), [
    { id: 'identity', name: 'Identity', arch: 'external', params: 12, path: join(modelsDir, 'identity') },
    { id: 'small-dncnn', name: 'Small DnCNN', arch: 'dncnn', params: 1027, path: join(modelsDir, 'small-dncnn') },
  ]);
  assert.equal(imported.status, 0, imported.stderr);
  assert.deepEqual(JSON.parse(imported.stdout), {
    id: 'keras_denoiser',
    name: 'keras_denoiser',
    arch: 'external',
    params: 112 + 111,
    path: join(modelsDir, 'keras_denoiser'),
    kind: 'keras',
  });
});

test('models show, export, rename, delete and list (table)', async () => {
  const show = await models('show', 'small-dncnn', '--backend', 'cpu');
  assert.equal(show.code, 0);
  assert.match(show.out[0]!, /^Small DnCNN \(small-dncnn\)$/);
  assert.ok(show.out.some((l) => /architecture {2}dncnn \(depth=3 filters=8/.test(l)));
  assert.ok(show.out.some((l) => /parameters {4}1,027/.test(l)));
  assert.ok(show.out.some((l) => /files .*weights\.bin/.test(l)));
  const showJson = await models('show', 'identity', '--json');
  assert.equal(JSON.parse(showJson.out[0]!).card.id, 'identity');

  const zip = join(home, 'exported.zip');
  const exported = await models('export', 'identity', '--out', zip, '--json');
  assert.equal(JSON.parse(exported.out[0]!).path, zip);
  assert.ok(existsSync(zip));

  const renamed = await models('rename', 'identity', 'The identity', '--json');
  assert.deepEqual(JSON.parse(renamed.out[0]!), { id: 'identity', name: 'The identity' });
  const deleted = await models('delete', 'small-dncnn');
  assert.match(deleted.out[0]!, /^Deleted small-dncnn/);
  assert.equal(existsSync(join(modelsDir, 'small-dncnn')), false);

  const table = await models('list');
  assert.match(table.out[0]!, /^ID\s+NAME\s+ARCH\s+PARAMS/);
  assert.ok(table.out.some((l) => /^identity\s+The identity\s+external\s+12/.test(l)));
  await modelsFails(['delete', 'small-dncnn'], 'MODEL_NOT_FOUND', /no model "small-dncnn"/);
});

test('corrupt packages: listed as broken, show fails with MODEL_INVALID (exit 1); bad usage is BAD_INPUT (exit 2)', async () => {
  await savePackage(modelsDir, identityModel(), { name: 'Broken card', id: 'broken-card', architecture: { id: 'external' } });
  await savePackage(modelsDir, identityModel(), { name: 'Broken model', id: 'broken-model', architecture: { id: 'external' } });
  await writeFile(join(modelsDir, 'broken-card', 'card.json'), '{"formatVersion": 99}');
  await writeFile(join(modelsDir, 'broken-model', 'model.json'), '{"modelTopology": 42}');

  const list = await models('list');
  assert.ok(list.out.some((l) => /^broken-card\s+BROKEN\s+.*format version 99/.test(l)), list.out.join('\n'));
  const listJson = JSON.parse((await models('list', '--json')).out[0]!) as Record<string, unknown>[];
  assert.match(String(listJson.find((m) => m.id === 'broken-card')?.error), /format version 99/);
  await modelsFails(['show', 'broken-model'], 'MODEL_INVALID', /model\.json/);
  await modelsFails(['export', 'broken-card'], 'MODEL_INVALID', /card\.json/);
  await modelsFails(['frobnicate'], 'BAD_INPUT', /Unknown models action "frobnicate"/);
  await modelsFails(['rename', 'identity'], 'BAD_INPUT', /needs a model id and a new name/);

  const [show, usage] = await Promise.all([runCli(['models', 'show', 'broken-model', '--backend', 'cpu', '--json'], env), runCli(['models'], env)]);
  assert.equal(show.status, 1);
  const error = jsonLines(show.stdout)[0]!.error as { code: string; message: string };
  assert.equal(error.code, 'MODEL_INVALID');
  assert.match(error.message, /model\.json/);
  assert.match(show.stderr, /studio models: .*model\.json/);
  assert.equal(usage.status, 2);
  assert.match(usage.stderr, /Give an action/);
});
