import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { zipSync } from 'fflate';
import { ARCHITECTURES } from '../../../src/main/engine/models/index';
import {
  deletePackage,
  exportPackageZip,
  importPackage,
  listPackages,
  loadPackage,
  loadPackageDir,
  readCard,
  renamePackage,
  saveModelFiles,
  savePackage,
  slugify,
  trainingSection,
} from '../../../src/main/engine/package/index';
import { writeDirAtomic } from '../../../src/main/fs-atomic';
import { train } from '../../../src/main/engine/train/index';
import { StudioError } from '#shared/rpc/errors';
import { ModelCardSchema } from '#shared/model-card';
import { MemorySampler, validationSet } from '../train/helpers';
import { TEST_BACKEND, useTestBackend } from '../../helpers/native';

await useTestBackend();

async function root(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'studio-pkg-'));
}

function invalid(re: RegExp) {
  return (e: unknown): boolean => {
    assert.ok(e instanceof StudioError, String(e));
    assert.equal(e.code, 'MODEL_INVALID', e.message);
    assert.match(e.message, re);
    return true;
  };
}

interface Predicts {
  predict(x: tf.Tensor): tf.Tensor | tf.Tensor[];
}

async function sameOutputs(a: Predicts, b: Predicts): Promise<void> {
  const x = tf.randomUniform([1, 9, 7, 3]);
  const ya = a.predict(x) as tf.Tensor;
  const yb = b.predict(x) as tf.Tensor;
  assert.deepEqual(Array.from(yb.dataSync()), Array.from(ya.dataSync()));
  tf.dispose([x, ya, yb]);
}

test('save, load, list, rename, delete a package', async () => {
  const dir = await root();
  try {
    const model = ARCHITECTURES['nafnet-tiny'].build({ width: 8, levels: 1 });
    const saved = await savePackage(dir, model, {
      name: 'Scratch remover v1',
      architecture: { id: 'nafnet-tiny', hyper: { width: 8, levels: 1 } },
      restores: { preset: 'scratches', description: 'Thin scratches on scanned prints' },
    });
    assert.equal(saved.id, 'scratch-remover-v1');
    assert.deepEqual((await readdir(saved.dir)).sort(), ['card.json', 'model.json', 'weights.bin']);
    const card = ModelCardSchema.parse(JSON.parse(await readFile(join(saved.dir, 'card.json'), 'utf8')));
    assert.equal(card.params, model.countParams());
    assert.equal(card.architecture.hyper.width, 8);
    assert.equal(card.architecture.hyper.middleBlocks, 1); // defaults filled in
    assert.equal(card.architecture.requiredMultiple, 2);
    assert.equal(card.architecture.padsInternally, true);
    assert.ok(card.macsPerPixel! > 0);
    assert.equal(card.source, 'untrained');

    const loaded = await loadPackage(dir, saved.id);
    await sameOutputs(model, loaded.model);
    loaded.model.dispose();

    // same name again → a fresh id; explicit id collision refused
    const second = await savePackage(dir, model, { name: 'Scratch remover v1', architecture: { id: 'nafnet-tiny', hyper: { width: 8, levels: 1 } } });
    assert.equal(second.id, 'scratch-remover-v1-2');
    await assert.rejects(
      savePackage(dir, model, { id: 'scratch-remover-v1', name: 'x', architecture: { id: 'nafnet-tiny', hyper: { width: 8, levels: 1 } } }),
      (e: unknown) => e instanceof StudioError && e.code === 'OUTPUT_UNWRITABLE',
    );
    model.dispose();

    const renamed = await renamePackage(dir, second.id, '  Scratches (small) ');
    assert.equal(renamed.name, 'Scratches (small)');
    assert.equal((await readCard(second.dir)).name, 'Scratches (small)');

    await mkdir(join(dir, '.scratch-remover-v3.tmp-123')); // temporaries are ignored
    const listing = await listPackages(dir);
    assert.deepEqual(listing.map((l) => [l.id, l.card?.name, l.error]), [
      ['scratch-remover-v1', 'Scratch remover v1', null],
      ['scratch-remover-v1-2', 'Scratches (small)', null],
    ]);

    await deletePackage(dir, second.id);
    assert.deepEqual((await listPackages(dir)).map((l) => l.id), ['scratch-remover-v1']);
    await assert.rejects(deletePackage(dir, 'nope'), (e: unknown) => e instanceof StudioError && e.code === 'MODEL_NOT_FOUND');
    await assert.rejects(loadPackage(dir, 'nope'), (e: unknown) => e instanceof StudioError && e.code === 'MODEL_NOT_FOUND');
    await assert.rejects(loadPackage(dir, '../etc'), (e: unknown) => e instanceof StudioError && e.code === 'BAD_INPUT');
    assert.equal(slugify('Ünïcode  Photo—Fix!'), 'unicode-photo-fix');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a trained model packages with its history, recipe and metrics', async () => {
  const dir = await root();
  try {
    const result = await train({
      recipe: { architecture: 'esrcnn', hyper: { filters: 4, branchFilters: 4, firstKernel: 3, lastKernel: 3 }, epochs: 1, stepsPerEpoch: 2, batchSize: 2, patchSize: 12 },
      sampler: new MemorySampler(2, 12),
      validation: validationSet(1, 2, 12),
      workDir: join(dir, 'run'),
    });
    const saved = await savePackage(join(dir, 'models'), result.model, {
      name: 'Denoise',
      architecture: { id: 'esrcnn', hyper: result.recipe.hyper },
      restores: { preset: 'noise', description: 'Sensor noise' },
      training: trainingSection(result, { dataFingerprint: 'sha256:abc' }),
    });
    result.model.dispose();
    const card = await readCard(saved.dir);
    assert.equal(card.source, 'trained');
    assert.equal(card.training!.dataFingerprint, 'sha256:abc');
    assert.equal(card.training!.history.length, 1);
    assert.equal(card.training!.backend, TEST_BACKEND);
    assert.equal(card.training!.stopReason, 'completed');
    assert.equal((card.training!.recipe as { stepsPerEpoch: number }).stepsPerEpoch, 2);
    assert.equal(card.training!.finalMetrics!.psnr, card.training!.history[0]!.valPsnr);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('export as zip and import a zip or a plain tfjs model folder', async () => {
  const dir = await root();
  try {
    const models = join(dir, 'models');
    const model = ARCHITECTURES.ffdnet.build({ depth: 3, filters: 8, noiseInput: 'fixed' });
    const saved = await savePackage(models, model, { name: 'FFD', architecture: { id: 'ffdnet', hyper: { depth: 3, filters: 8, noiseInput: 'fixed' } } });
    const zipPath = join(dir, 'ffd.zip');
    const zip = await exportPackageZip(models, saved.id, zipPath);
    assert.ok(zip.byteLength > 1000);

    const imported = await importPackage(models, zipPath);
    assert.equal(imported.id, 'ffd-2');
    assert.equal(imported.card.name, 'FFD');
    assert.equal(imported.card.architecture.id, 'ffdnet');
    const back = await loadPackageDir(imported.dir);
    await sameOutputs(model, back.model);
    back.model.dispose();

    // a plain tfjs layers model folder, without a card
    const plain = join(dir, 'My Denoiser');
    await mkdir(plain);
    await saveModelFiles(model, plain);
    const fromFolder = await importPackage(models, plain);
    assert.equal(fromFolder.id, 'my-denoiser');
    assert.equal(fromFolder.card.source, 'imported-tfjs');
    assert.equal(fromFolder.card.architecture.id, 'external');
    assert.equal(fromFolder.card.task, 'restore');
    assert.equal(fromFolder.card.params, model.countParams());
    const plainLoaded = await loadPackageDir(fromFolder.dir);
    await sameOutputs(model, plainLoaded.model);
    plainLoaded.model.dispose();

    // the same folder zipped (files at the zip's root)
    const entries: Record<string, Uint8Array> = {};
    for (const f of await readdir(plain)) entries[f] = new Uint8Array(await readFile(join(plain, f)));
    await writeFile(join(dir, 'plain.zip'), zipSync(entries));
    const fromZip = await importPackage(models, join(dir, 'plain.zip'));
    assert.equal(fromZip.id, 'plain');

    // unsafe or empty zips are refused
    await writeFile(join(dir, 'evil.zip'), zipSync({ '../model.json': new Uint8Array([1]) }));
    await assert.rejects(importPackage(models, join(dir, 'evil.zip')), invalid(/unsafe path/));
    await writeFile(join(dir, 'empty.zip'), zipSync({ 'readme.txt': new Uint8Array([1]) }));
    await assert.rejects(importPackage(models, join(dir, 'empty.zip')), invalid(/contains no model.json/));
    await writeFile(join(dir, 'junk.zip'), 'not a zip at all');
    await assert.rejects(importPackage(models, join(dir, 'junk.zip')), invalid(/junk.zip is not a readable zip/));
    model.dispose();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('corrupt packages fail with MODEL_INVALID naming the file and the problem', async () => {
  const dir = await root();
  try {
    const model = ARCHITECTURES.dncnn.build({ depth: 3, filters: 8 });
    const good = await savePackage(dir, model, { name: 'good', architecture: { id: 'dncnn', hyper: { depth: 3, filters: 8 } } });
    model.dispose();
    const variant = async (name: string, damage: (d: string) => Promise<void>): Promise<string> => {
      const d = join(dir, name);
      await cp(good.dir, d, { recursive: true });
      await damage(d);
      return d;
    };

    const noModel = await variant('no-model', (d) => rm(join(d, 'model.json')));
    await assert.rejects(loadPackageDir(noModel), invalid(/model\.json is missing in .*no-model/));

    const garbled = await variant('garbled', (d) => writeFile(join(d, 'model.json'), '{"modelTopology": {"class_name": "Model", "config": '));
    await assert.rejects(loadPackageDir(garbled), invalid(/model\.json in .*garbled is not valid JSON/));

    const wrongJson = await variant('wrong-json', (d) => writeFile(join(d, 'model.json'), '{"weightsManifest": []}'));
    await assert.rejects(loadPackageDir(wrongJson), invalid(/model\.json in .*wrong-json has no modelTopology/));

    const truncated = await variant('truncated', (d) => truncate(join(d, 'weights.bin'), 100));
    await assert.rejects(loadPackageDir(truncated), invalid(/weights file weights\.bin in .*truncated is truncated: model\.json needs \d+ bytes, found 100/));

    const noWeights = await variant('no-weights', (d) => rm(join(d, 'weights.bin')));
    await assert.rejects(loadPackageDir(noWeights), invalid(/weights file weights\.bin listed in model\.json is missing/));

    const badTopology = await variant('bad-topology', async (d) => {
      const json = JSON.parse(await readFile(join(d, 'model.json'), 'utf8'));
      json.modelTopology.config.layers[1].class_name = 'NoSuchLayer';
      await writeFile(join(d, 'model.json'), JSON.stringify(json));
    });
    await assert.rejects(loadPackageDir(badTopology), invalid(/model\.json in .*bad-topology describes a model that cannot be built: .*NoSuchLayer/));

    const badCard = await variant('bad-card', async (d) => {
      const card = JSON.parse(await readFile(join(d, 'card.json'), 'utf8'));
      card.params = 'many';
      await writeFile(join(d, 'card.json'), JSON.stringify(card));
    });
    await assert.rejects(loadPackageDir(badCard), invalid(/card\.json in .*bad-card is invalid: params/));

    const garbledCard = await variant('garbled-card', (d) => writeFile(join(d, 'card.json'), 'nope'));
    await assert.rejects(loadPackageDir(garbledCard), invalid(/card\.json in .*garbled-card is not valid JSON/));

    const future = await variant('future', async (d) => {
      const card = JSON.parse(await readFile(join(d, 'card.json'), 'utf8'));
      card.formatVersion = 7;
      await writeFile(join(d, 'card.json'), JSON.stringify(card));
    });
    await assert.rejects(loadPackageDir(future), invalid(/card\.json in .*future has format version 7; .* reads version 1 \(the package was written by a newer version\)/));

    const noCard = await variant('no-card', (d) => rm(join(d, 'card.json')));
    await assert.rejects(loadPackageDir(noCard), invalid(/card\.json is missing in .*no-card/));

    const wrongParams = await variant('wrong-params', async (d) => {
      const card = JSON.parse(await readFile(join(d, 'card.json'), 'utf8'));
      card.params = 12;
      await writeFile(join(d, 'card.json'), JSON.stringify(card));
    });
    await assert.rejects(loadPackageDir(wrongParams), invalid(/says 12 parameters but model\.json has 1027/));

    // the listing shows broken packages with their error instead of hiding them
    const listing = await listPackages(dir);
    const byId = Object.fromEntries(listing.map((l) => [l.id, l]));
    assert.equal(byId.good!.error, null);
    assert.match(byId['no-card']!.error!, /card\.json is missing/);
    assert.match(byId.future!.error!, /format version 7/);
    assert.match(byId['no-model']!.error!, /model\.json is missing/);
    assert.equal(byId['no-model']!.card, null);

    // a zip of a corrupt package names the zip, not a temporary folder
    await writeFile(join(dir, 'broken.zip'), zipSync({
      'x/model.json': new Uint8Array(await readFile(join(truncated, 'model.json'))),
      'x/weights.bin': new Uint8Array(await readFile(join(truncated, 'weights.bin'))),
    }));
    await assert.rejects(importPackage(join(dir, 'imported'), join(dir, 'broken.zip')), invalid(/in broken\.zip is truncated/));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('folder writes are atomic: a failed write leaves nothing, a replace swaps whole folders', async () => {
  const dir = await root();
  try {
    const target = join(dir, 'pkg');
    await assert.rejects(
      writeDirAtomic(target, async (tmp) => {
        await writeFile(join(tmp, 'a.txt'), 'half');
        throw new Error('disk full');
      }),
      /disk full/,
    );
    assert.deepEqual(await readdir(dir), []);
    await writeDirAtomic(target, (tmp) => writeFile(join(tmp, 'a.txt'), 'one'));
    await assert.rejects(writeDirAtomic(target, (tmp) => writeFile(join(tmp, 'b.txt'), 'two')));
    await writeDirAtomic(target, (tmp) => writeFile(join(tmp, 'b.txt'), 'two'), { replace: true });
    assert.deepEqual(await readdir(target), ['b.txt']);
    assert.deepEqual(await readdir(dir), ['pkg']);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
