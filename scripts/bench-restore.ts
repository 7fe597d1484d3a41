// Restoration speed and memory: megapixels per second for each shipped restoration model (resources/models)
// at 576x720 and at 12 megapixels, and peak memory (RSS and tf.memory) over a batch of 200 generated images,
// which must not grow with the batch. Runs on the wasm backend (STUDIO_BACKEND overrides).
// When no model is shipped yet, a freshly built reference-size model from the zoo is measured instead
// (DnCNN, 10 layers of 32 channels, untrained weights: speed does not depend on the weights).
// Usage: npm run bench:restore [-- --batch N] [-- --skip-12mp]
import * as tf from '@tensorflow/tfjs-core';
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { initBackend, resolvePreference } from '../src/main/engine/backend';
import { getArchitecture } from '../src/main/engine/models/index';
import { median } from '../src/main/engine/train/speed';
import { listPackages } from '../src/main/engine/package/index';
import { bundledModelsDir } from '../src/main/paths';
import { restoreBatch } from '../src/main/engine/infer/batch';
import { loadRestoreModel, wrapLayersModel, type RestoreModel } from '../src/main/engine/infer/model';
import { planTiles } from '../src/main/engine/infer/memory';
import { restoreRows, type PixelSource } from '../src/main/engine/infer/restore-image';

const { values } = parseArgs({
  options: { batch: { type: 'string', default: '200' }, 'skip-12mp': { type: 'boolean', default: false } },
});
const batchSize = Number(values.batch);

const MB = 1024 ** 2;
const mb = (bytes: number, digits = 0): string => `${(bytes / MB).toFixed(digits)} MB`;

/** Peak tf.memory() seen right after a forward pass, while the tile's input and output are alive. */
let tfPeak = { numBytes: 0, numTensors: 0 };
function sampled(model: RestoreModel): RestoreModel {
  return {
    ...model,
    run: (x) => {
      const y = model.run(x);
      const m = tf.memory();
      tfPeak = { numBytes: Math.max(tfPeak.numBytes, m.numBytes), numTensors: Math.max(tfPeak.numTensors, m.numTensors) };
      return y;
    },
  };
}

function generated(width: number, height: number, seed: number): PixelSource {
  const pixels = new Uint8Array(width * height * 3);
  let s = seed >>> 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < 3; c++) {
        s = (s * 1664525 + 1013904223) >>> 0;
        const v = 128 + 80 * Math.sin(x * 0.01 + y * 0.013 + c) + ((s >>> 24) - 128) * 0.2;
        pixels[(y * width + x) * 3 + c] = Math.max(0, Math.min(255, Math.round(v)));
      }
    }
  }
  return { width, height, channels: 3, pixels, maxValue: 255 };
}

async function timeRestore(model: RestoreModel, width: number, height: number): Promise<{ mps: number; seconds: number; tile: number }> {
  const source = generated(width, height, width + height);
  const plan = planTiles(model);
  const start = performance.now();
  let checksum = 0;
  await restoreRows(model, source, plan, {
    region: (_x0, _y0, _w, _h, pixels) => {
      checksum += pixels[0]!;
    },
  });
  const seconds = (performance.now() - start) / 1000;
  if (!Number.isFinite(checksum)) throw new Error('non-finite output');
  return { mps: (width * height) / 1e6 / seconds, seconds, tile: plan.tile };
}

async function batchMemory(model: RestoreModel, count: number): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'studio-bench-'));
  try {
    const input = join(dir, 'in');
    await mkdir(input);
    for (let i = 0; i < count; i++) {
      const w = 64 + ((i * 37) % 96);
      const h = 64 + ((i * 53) % 96);
      const src = generated(w, h, i);
      await writeFile(join(input, `img-${String(i).padStart(4, '0')}.png`), await sharp(src.pixels, { raw: { width: w, height: h, channels: 3 } }).png().toBuffer());
    }
    const rss: number[] = [];
    const tensors: number[] = [];
    const startTensors = tf.memory().numTensors;
    tfPeak = { numBytes: 0, numTensors: 0 };
    const summary = await restoreBatch(
      { input, out: join(dir, 'out'), model: sampled(model) },
      {
        onFile: () => {
          rss.push(process.memoryUsage().rss);
          tensors.push(tf.memory().numTensors);
        },
      },
    );
    const tenth = Math.max(1, Math.floor(rss.length / 10));
    const firstRss = Math.max(...rss.slice(0, tenth));
    const lastRss = Math.max(...rss.slice(-tenth));
    const mp = summary.files.reduce((a, f) => a + (f.status === 'done' ? f.megapixels : 0), 0);
    return (
      `batch of ${count} (${mp.toFixed(2)} MP): ${summary.done} done, ${summary.failed.length} failed, ${summary.megapixelsPerSecond.toFixed(3)} MP/s; ` +
      `peak RSS ${mb(Math.max(...rss))} (first ${tenth} files ${mb(firstRss)}, last ${tenth} ${mb(lastRss)}, growth ${mb(lastRss - firstRss)}); ` +
      `tf.memory peak ${mb(tfPeak.numBytes, 1)} / ${tfPeak.numTensors} tensors (during a tile); between files ${Math.min(...tensors)}-${Math.max(...tensors)} tensors ` +
      `(${startTensors} before the batch, ${tf.memory().numTensors} after)`
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const status = await initBackend(resolvePreference(process.env.STUDIO_BACKEND || 'wasm'));
  console.log(`Backend: ${status.backend} (${status.threads} thread${status.threads === 1 ? '' : 's'}), Node ${process.versions.node}, ${process.platform}-${process.arch}`);
  const shipped = (await listPackages(bundledModelsDir())).filter((p) => p.card?.task === 'restore');
  const models: { label: string; load: () => Promise<RestoreModel> }[] = shipped.map((p) => ({
    label: `${p.id} (${p.card!.architecture.id}, ${p.card!.params} parameters)`,
    load: () => loadRestoreModel(p.dir),
  }));
  if (models.length === 0) {
    console.log(
      `No restoration model is shipped in ${bundledModelsDir()} yet: measuring a freshly built reference-size model instead ` +
        '(zoo dncnn, 10 layers x 32 channels, untrained weights).',
    );
    models.push({
      label: 'reference dncnn depth 10, 32 filters (built, untrained)',
      load: async () => {
        const arch = getArchitecture('dncnn');
        const hyper = { depth: 10, filters: 32 };
        const layers = arch.build(hyper);
        return wrapLayersModel(layers, { id: 'reference-dncnn', name: 'reference dncnn', fingerprint: 'reference' });
      },
    });
  }
  for (const entry of models) {
    const model = await entry.load();
    try {
      const plan = planTiles(model);
      console.log(`\nModel: ${entry.label}; receptive radius ${model.receptiveRadius} px, auto tile ${plan.tile} px, overlap ${plan.overlap} px`);
      const profile = await tf.profile(() => {
        const x = tf.zeros([1, plan.tile, plan.tile, 3]) as tf.Tensor4D;
        const y = model.run(x);
        x.dispose();
        return y;
      });
      tf.dispose(profile.result as tf.Tensor);
      console.log(`  one ${plan.tile}x${plan.tile} tile: peak tensor memory ${mb(profile.peakBytes)} (estimate used for tile sizing: ${mb(model.bytesPerPixel * plan.tile * plan.tile)})`);
      await timeRestore(model, 128, 128); // warm-up: kernels, heap growth
      // Median of 5: single timings swing by a third on a shared 2-core machine.
      const runs: number[] = [];
      for (let i = 0; i < 5; i++) runs.push((await timeRestore(model, 576, 720)).seconds);
      const seconds = median(runs);
      console.log(
        `  576x720 (0.41 MP): median ${seconds.toFixed(2)} s (${((576 * 720) / 1e6 / seconds).toFixed(3)} MP/s; ` +
          `5 runs ${Math.min(...runs).toFixed(2)}-${Math.max(...runs).toFixed(2)} s)`,
      );
      console.log(`  ${await batchMemory(model, batchSize)}`);
      if (!values['skip-12mp']) {
        tfPeak = { numBytes: 0, numTensors: 0 };
        const big = await timeRestore(sampled(model), 4000, 3000);
        console.log(
          `  4000x3000 (12 MP): ${big.mps.toFixed(3)} MP/s (${big.seconds.toFixed(1)} s); RSS after ${mb(process.memoryUsage().rss)}, ` +
            `tf.memory after each tile's forward pass at most ${mb(tfPeak.numBytes, 1)} (tile ${big.tile} px)`,
        );
      }
    } finally {
      model.dispose();
    }
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
