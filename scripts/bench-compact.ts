// Real-ESRGAN Compact (64 features, 16 convs, 1x) on a 576x720 photo: the studio's import of a PyTorch .pth
// against PyTorch itself, in one run on this machine (issue 19's speed target: <= 1.5 s native).
//
//   npm run bench:compact [-- --python PATH] [--runs N]
//
// scripts/bench-pytorch.py builds the model with random weights (speed does not depend on them), saves it as a
// .pth and times PyTorch; the studio imports that file (the same path as the Models view) and times the
// model's forward pass on the best backend, then a whole `restore` of one photo (decode, tiles, encode).
// Without a Python that has torch, only the studio is timed. Progress goes to stderr.
import * as tf from '@tensorflow/tfjs-core';
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { initBackend, resolvePreference } from '../src/main/engine/backend';
import { restoreBatch } from '../src/main/engine/infer/batch';
import { loadRestoreModel } from '../src/main/engine/infer/model';
import { importPytorchWeights } from '../src/main/engine/pytorch/import';
import { median } from '../src/main/engine/train/speed';

const { values } = parseArgs({ options: { python: { type: 'string', default: 'python3' }, runs: { type: 'string', default: '5' } } });
const runs = Math.max(1, Number(values.runs));
const work = await mkdtemp(join(tmpdir(), 'studio-bench-compact-'));
try {
  const pth = join(work, 'compact-64x16.pth');
  console.error(`PyTorch: ${values.python} scripts/bench-pytorch.py`);
  const peer = spawnSync(values.python!, [join(import.meta.dirname, 'bench-pytorch.py'), '--out', pth, '--runs', String(runs)], { encoding: 'utf8' });
  const torchLine = peer.status === 0 ? (JSON.parse(peer.stdout.trim().split('\n').pop()!) as { medianSeconds: number; threads: number; torch: string }) : null;
  if (!torchLine) {
    console.error(`PyTorch not timed: ${(peer.stderr || String(peer.error)).trim().split('\n').pop()}`);
    process.exit(1); // the .pth comes from PyTorch: without it there is nothing to import
  }
  const status = await initBackend(resolvePreference(process.env.STUDIO_BACKEND));
  const imported = await importPytorchWeights(join(work, 'models'), pth);
  const model = await loadRestoreModel(imported.dir);
  const x = tf.randomUniform([1, 576, 720, 3]) as tf.Tensor4D;
  const times: number[] = [];
  for (let i = 0; i <= runs; i++) {
    const start = performance.now();
    const y = model.run(x);
    await y.data();
    y.dispose();
    if (i > 0) times.push((performance.now() - start) / 1000); // the first run warms up
  }
  x.dispose();
  const photos = join(work, 'photos');
  const pixels = Buffer.alloc(720 * 576 * 3);
  for (let i = 0; i < pixels.length; i++) pixels[i] = (i * 7919) % 251;
  await mkdir(photos, { recursive: true });
  await sharp(pixels, { raw: { width: 720, height: 576, channels: 3 } }).png().toFile(join(photos, 'photo.png'));
  const restoreStart = performance.now();
  await restoreBatch({ input: photos, out: join(work, 'restored'), model });
  const restoreSeconds = (performance.now() - restoreStart) / 1000;
  model.dispose();
  const studio = median(times);
  console.log(`Compact 64x16 1x, one 576x720 photo (median of ${runs}):`);
  console.log(`  studio (${status.backend}) forward pass ${studio.toFixed(2)} s; whole restore ${restoreSeconds.toFixed(2)} s`);
  console.log(`  PyTorch ${torchLine.torch} (${torchLine.threads} threads) ${torchLine.medianSeconds.toFixed(2)} s`);
  console.log(`  studio / PyTorch speed: ${(torchLine.medianSeconds / studio).toFixed(2)}x (above 1: the studio is faster)`);
} finally {
  await rm(work, { recursive: true, force: true });
}
