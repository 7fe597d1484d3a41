// Benchmarks the training data pipeline: how many patches per second the sampler delivers (batch 16 of
// 64x64 by default), with synthesis off and on, and whether a training loop would ever wait for it.
//
// Usage: npm run bench:data -- [folder] [--seconds 4] [--batch 16] [--patch 64] [--thread auto|worker|main]
//                              [--presets none,gaussian-blind,old-photo] [--json]
// Without a folder it generates 48 photo-like 481x321 images in a temp dir (removed afterwards).
// If src/main/engine/models/reference.ts exists, the training step rate of its reference CNN on the same
// batch shape is printed for comparison.
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { openDataset, type DatasetItem } from '../src/main/engine/data/dataset';
import { Rng } from '../src/main/engine/data/rng';
import { presetRecipe } from '../src/main/engine/data/synth/presets';
import { type ManagedPatchSampler, type SamplerThread, createPatchSampler } from '../src/main/engine/data/worker-sampler';
import type { PatchBatch } from '../src/main/engine/data/types';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    seconds: { type: 'string', default: '4' },
    batch: { type: 'string', default: '16' },
    patch: { type: 'string', default: '64' },
    thread: { type: 'string', default: 'auto' },
    presets: { type: 'string' },
    json: { type: 'boolean', default: false },
  },
});
const seconds = Number(values.seconds);
const batchSize = Number(values.batch);
const patchSize = Number(values.patch);
const thread = values.thread as SamplerThread;
const log = (line: string): void => {
  if (!values.json) console.log(line);
};

/** Photo-like test images: smooth gradients, a few soft blobs, fine texture. */
async function generateImages(dir: string, count: number): Promise<void> {
  const w = 481;
  const h = 321;
  for (let n = 0; n < count; n++) {
    const rng = new Rng(1000 + n);
    const blobs = Array.from({ length: 8 }, () => ({ x: rng.uniform(0, w), y: rng.uniform(0, h), r: rng.uniform(20, 160), c: [rng.next(), rng.next(), rng.next()] }));
    const px = Buffer.alloc(w * h * 3);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        for (let c = 0; c < 3; c++) {
          let v = 0.25 + 0.4 * (x / w) * (c === 0 ? 1 : 0.6) + 0.2 * (y / h);
          for (const b of blobs) v += 0.35 * (b.c[c]! - 0.5) * Math.exp(-((x - b.x) ** 2 + (y - b.y) ** 2) / (b.r * b.r));
          v += 0.05 * Math.sin(x * 0.7 + n) * Math.cos(y * 0.45 + c);
          px[(y * w + x) * 3 + c] = Math.max(0, Math.min(255, Math.round(v * 255)));
        }
      }
    }
    await sharp(px, { raw: { width: w, height: h, channels: 3 } })
      .jpeg({ quality: 92 })
      .toFile(join(dir, `gen${String(n).padStart(3, '0')}.jpg`));
  }
}

interface Scenario {
  name: string;
  items: DatasetItem[];
  preset?: string;
}

interface Result {
  scenario: string;
  mode: string;
  patchesPerSecond: number;
  batchesPerSecond: number;
  decodes: number;
  cacheHits: number;
  synthMsPerVisit: number;
  /** Consumer simulating training steps of stepMs: average wait per step for a batch (ms). */
  stepMs?: number;
  waitPerStepMs?: number;
  maxWaitMs?: number;
  /** Steps that found no batch ready (the loader was behind), and their total wait. */
  starvedSteps?: number;
  starvedMs?: number;
  steps?: number;
}

function busy(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // Blocks the thread like a synchronous training step (tfjs cpu kernels run on this thread).
  }
}

async function measure(s: Scenario, stepMs: number | null): Promise<Result> {
  const sampler: ManagedPatchSampler = await createPatchSampler({
    items: s.items,
    recipe: s.preset ? presetRecipe(s.preset) : undefined,
    patchSize,
    batchSize,
    seed: 1,
    thread,
  });
  try {
    for (let i = 0; i < 3; i++) await sampler.nextBatch();
    const before = sampler.stats();
    const t0 = performance.now();
    let patches = 0;
    let batches = 0;
    while (performance.now() - t0 < seconds * 1000) {
      const b = await sampler.nextBatch();
      patches += b.batch;
      batches++;
    }
    const dt = (performance.now() - t0) / 1000;
    const after = sampler.stats();
    const visits = Math.max(1, after.visits - before.visits);
    const result: Result = {
      scenario: s.name,
      mode: sampler.mode,
      patchesPerSecond: patches / dt,
      batchesPerSecond: batches / dt,
      decodes: after.decodes - before.decodes,
      cacheHits: after.cacheHits - before.cacheHits,
      synthMsPerVisit: (after.synthMs - before.synthMs) / visits,
    };
    if (stepMs !== null) {
      // A consumer that "trains" for stepMs per batch: how long does it wait for data?
      // The throughput run above drained the queue; a training loop in steady state never does that,
      // so let the prefetch queue refill first (about one training step's worth of time is enough).
      await new Promise((r) => setTimeout(r, Math.max(500, 2 * stepMs)));
      const steps = Math.max(5, Math.min(60, Math.round((seconds * 1000) / Math.max(stepMs, 1))));
      const starvedBefore = sampler.stats();
      let waited = 0;
      let maxWait = 0;
      for (let i = 0; i < steps; i++) {
        const w0 = performance.now();
        const b: PatchBatch = await sampler.nextBatch();
        const w = performance.now() - w0;
        waited += w;
        maxWait = Math.max(maxWait, w);
        if (b.batch !== batchSize) throw new Error('bad batch');
        busy(stepMs);
        // Give the event loop a turn between steps, as an awaiting training loop does.
        await new Promise((r) => setImmediate(r));
      }
      result.stepMs = stepMs;
      result.waitPerStepMs = waited / steps;
      result.maxWaitMs = maxWait;
      const starvedAfter = sampler.stats();
      result.starvedSteps = starvedAfter.waits - starvedBefore.waits;
      result.starvedMs = starvedAfter.waitMs - starvedBefore.waitMs;
      result.steps = steps;
    }
    return result;
  } finally {
    await sampler.close();
  }
}

/** Training step time (ms) of the reference CNN at this batch shape, if the module exists. */
async function referenceStepMs(): Promise<{ ms: number; label: string } | { skipped: string }> {
  const here = dirname(fileURLToPath(import.meta.url));
  const path = resolve(here, '../src/main/engine/models/reference.ts');
  if (!existsSync(path)) return { skipped: 'src/main/engine/models/reference.ts does not exist yet' };
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
  } catch (error) {
    return { skipped: `reference.ts failed to load: ${(error as Error).message.split('\n')[0]}` };
  }
  const builderName = ['buildReferenceCnn', 'buildReferenceModel', 'createReferenceModel', 'buildReference', 'default'].find(
    (name) => typeof mod[name] === 'function',
  );
  if (!builderName) return { skipped: `reference.ts exports no model builder (${Object.keys(mod).join(', ')})` };
  const build = mod[builderName] as () => {
    compile(c: { optimizer: string; loss: string }): void;
    trainOnBatch(x: unknown, y: unknown): Promise<unknown>;
    dispose(): unknown;
  };
  const { initBackend } = await import('../src/main/engine/backend');
  const tf = await import('@tensorflow/tfjs-core');
  const reasons: string[] = [];
  // The preferred backend first (STUDIO_BACKEND or the best that loads); cpu if it cannot train convs (wasm).
  for (const preference of [undefined, 'cpu'] as const) {
    try {
      const status = await initBackend(preference);
      if (preference === 'cpu' && reasons.length === 0) break;
      const model = build();
      model.compile({ optimizer: 'adam', loss: 'meanSquaredError' });
      const x = tf.randomUniform([batchSize, patchSize, patchSize, 3]);
      const y = tf.randomUniform([batchSize, patchSize, patchSize, 3]);
      try {
        const w0 = performance.now();
        await model.trainOnBatch(x, y); // warm-up (kernel set-up)
        const warm = performance.now() - w0;
        // Slow backends take seconds per step: time fewer steps there.
        const n = warm > 5000 ? 1 : warm > 1000 ? 2 : 5;
        const t0 = performance.now();
        for (let i = 0; i < n; i++) await model.trainOnBatch(x, y);
        return { ms: (performance.now() - t0) / n, label: `${builderName}() on ${status.backend}` };
      } finally {
        x.dispose();
        y.dispose();
        model.dispose();
      }
    } catch (error) {
      reasons.push((error as Error).message.split('\n')[0]!);
    }
  }
  return { skipped: `the reference CNN could not train here: ${reasons.join('; ')}` };
}

async function main(): Promise<void> {
  let folder = positionals[0];
  let temp: string | null = null;
  if (!folder) {
    temp = await mkdtemp(join(tmpdir(), 'studio-bench-data-'));
    log(`No folder given: generating 48 images (481x321 JPEG) in ${temp}…`);
    await generateImages(temp, 48);
    folder = temp;
  }
  try {
    const dataset = await openDataset(folder);
    const cleanItems = dataset.items.map((i) => ({ id: i.id, clean: i.clean }));
    const presets = values.presets ? values.presets.split(',') : ['none', 'gaussian-blind', 'old-photo'];
    const scenarios: Scenario[] = [];
    if (dataset.kind === 'paired') scenarios.push({ name: 'paired files (synthesis off)', items: dataset.items });
    for (const p of presets) scenarios.push({ name: p === 'none' ? 'synthesis off (degraded = clean)' : `synthesis ${p}`, items: cleanItems, preset: p });

    log(`Dataset ${dataset.root}: ${dataset.kind}, ${dataset.items.length} items; batch ${batchSize} of ${patchSize}x${patchSize}, ${seconds}s per run, thread ${thread}.`);
    const reference = await referenceStepMs();
    if ('ms' in reference) log(`Reference CNN (${reference.label}): ${(1000 / reference.ms).toFixed(2)} steps/s (${reference.ms.toFixed(0)} ms/step), ${((1000 / reference.ms) * batchSize).toFixed(0)} patches/s consumed.`);
    else log(`Reference CNN: skipped (${reference.skipped}).`);
    const stepMs = 'ms' in reference ? reference.ms : 100;
    log(`Wait test: a consumer blocks this thread ${stepMs.toFixed(0)} ms per batch, like a training step. "Starved" = steps`);
    log('that found no batch ready; wait/step also counts OS scheduling noise on a busy machine.');
    log('');
    log('scenario                              thread   patches/s  batches/s  synth ms/visit  starved steps  wait/step (max)');
    const results: Result[] = [];
    for (const s of scenarios) {
      const r = await measure(s, stepMs);
      results.push(r);
      log(
        `${r.scenario.padEnd(37)} ${r.mode.padEnd(7)} ${r.patchesPerSecond.toFixed(0).padStart(10)} ${r.batchesPerSecond.toFixed(1).padStart(10)} ${r.synthMsPerVisit.toFixed(1).padStart(15)} ${`${r.starvedSteps}/${r.steps}`.padStart(14)} ${(r.waitPerStepMs ?? 0).toFixed(2).padStart(8)} ms (${(r.maxWaitMs ?? 0).toFixed(1)} ms)`,
      );
    }
    if (values.json) console.log(JSON.stringify({ dataset: dataset.root, batchSize, patchSize, seconds, reference, results }));
  } finally {
    if (temp) await rm(temp, { recursive: true, force: true });
  }
}

await main();
