// Engine benchmark: training and inference speed of every backend that loads.
//
//   npm run bench:engine [-- options]
//
// For each backend (tensorflow, wasm, cpu; those that load) and each model (the reference CNN of
// src/main/engine/models/reference.ts, plus the restoration architectures of the model zoo registry when
// it exists):
//   train  one step on a batch of 16 64x64 patches: forward, MSE, backward, Adam update
//   infer  one 576x720 RGB image
// Columns: median ms, the process CPU ms of a rep (all threads), patches/s or megapixels/s, and effective
// GFLOP/s = 2 x the multiply-adds of the conv/dense layers (x 3 for a training step: forward + input
// gradient + weight gradient).
// Then the wasm/cpu training speed ratio of the reference CNN, measured in the same run.
//
// cpu is very slow (its weight-gradient kernel is a scalar JavaScript loop: on 2 cores one reference
// training step takes about 150 s per patch, 40 min at batch 16), so it is measured with few repetitions:
// 2 training steps at batch 2 (--cpu-steps, --cpu-batch; its per-patch rate does not depend on the batch,
// and the wasm/cpu ratio compares patches/s) and 1 inference, on the reference CNN only unless --cpu-zoo.
//
// The peer: the same networks in Keras on TensorFlow (scripts/bench-keras.py): the reference CNN and the
// bundled architectures (ffdnet as `denoise`, unet as `old-photo`; their parameter counts are checked against
// the zoo's), run when a Python with TensorFlow is found (--python PATH, else python3), with the ratios
// studio-native / Keras (above 1: the studio is faster) in wall time and in process CPU time (all threads;
// on a machine busy with other work, wall time counts the waits for a core and CPU time does not).
//
// Options:
//   --json                 print one JSON line instead of the table: {"rows": [...] (with cpuMs), "wasmOverCpuTrain": n,
//                          "nativeOverKerasTrain": n, "nativeOverKerasInfer": n (reference CNN), "nativeOverKeras":
//                          {model: {train, infer, trainCpu, inferCpu}}}; Keras rows have "backend": "keras"
//   --python PATH          the Python for the Keras peer (default python3); --no-keras skips it
//   --backends a,b         backends to try (default tensorflow,wasm,cpu)
//   --models a,b           models (default: reference and every zoo restorer)
//   --steps n              timed training steps on fast backends (default 5 reference, 2 zoo models)
//   --cpu-steps n          timed training steps on cpu (default 2)
//   --cpu-batch n          training batch on cpu (default 2)
//   --cpu-zoo              also run the zoo models on cpu
// Progress goes to stderr.
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { initBackend } from '../src/main/engine/backend';
import { buildReferenceCnn, referenceMacsPerPixel } from '../src/main/engine/models/reference';
import { median, timeTrainSteps } from '../src/main/engine/train/speed';
import type { BackendName, BackendStatus } from '#shared/engine-types';

const PATCH = 64;
const BATCH = 16;
const IMAGE: [number, number] = [576, 720];

interface Row {
  backend: BackendName | 'keras';
  model: string;
  task: 'train' | 'infer';
  medianMs: number;
  perSecond: number;
  unit: 'patches' | 'megapixels';
  gflops: number;
}

interface Measured extends Row {
  reps: number;
  batch: number;
  /** Median process CPU milliseconds (all threads) of a rep: on a loaded machine, what a run costs. */
  cpuMs: number;
}

/** Wall and CPU milliseconds of each timed rep. */
interface Times {
  wall: number[];
  cpu: number[];
}

interface Bench {
  name: string;
  build(): tfl.LayersModel;
  macsPerPixel: number;
}

function args(): Map<string, string | true> {
  const out = new Map<string, string | true>();
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--')) continue;
    const [key, inline] = a.slice(2).split('=', 2) as [string, string | undefined];
    const next = argv[i + 1];
    if (inline !== undefined) out.set(key, inline);
    else if (next !== undefined && !next.startsWith('--')) out.set(key, argv[++i]!);
    else out.set(key, true);
  }
  return out;
}

const opts = args();
const json = opts.has('json');
const log = (line: string): void => {
  process.stderr.write(`${line}\n`);
};
const num = (key: string, fallback: number): number => {
  const v = opts.get(key);
  return typeof v === 'string' && Number.isFinite(Number(v)) ? Number(v) : fallback;
};
const list = (key: string): string[] | null => {
  const v = opts.get(key);
  return typeof v === 'string' ? v.split(',').map((s) => s.trim()).filter(Boolean) : null;
};

async function models(): Promise<Bench[]> {
  const benches: Bench[] = [{ name: 'reference', build: () => buildReferenceCnn(), macsPerPixel: referenceMacsPerPixel() }];
  const registry = new URL('../src/main/engine/models/index.ts', import.meta.url);
  if (!existsSync(registry)) return benches;
  type Arch = { task: string; build(h?: object, o?: object): tfl.LayersModel; macsPerPixel(): number };
  const { ARCHITECTURES } = (await import(registry.href)) as { ARCHITECTURES: Record<string, Arch> };
  for (const [id, arch] of Object.entries(ARCHITECTURES)) {
    // Image-to-image models only: the classifier has a fixed input size and a single output.
    if (arch.task !== 'restore') continue;
    benches.push({ name: id, build: () => arch.build(), macsPerPixel: arch.macsPerPixel() });
  }
  return benches;
}

async function timeTrain(bench: Bench, batch: number, warmup: number, steps: number): Promise<Times> {
  const model = bench.build();
  const cpu: number[] = [];
  try {
    const wall = await timeTrainSteps(model, {
      batch,
      height: PATCH,
      width: PATCH,
      warmup,
      steps,
      onStep: (i, ms, cpuMs) => {
        cpu.push(cpuMs);
        log(`    train step ${i + 1}/${steps}: ${ms.toFixed(0)} ms (CPU ${cpuMs.toFixed(0)} ms)`);
      },
    });
    return { wall, cpu };
  } finally {
    model.dispose();
  }
}

async function timeInfer(bench: Bench, warmupFull: boolean, runs: number): Promise<Times> {
  const model = bench.build();
  const image = tf.randomUniform([1, ...IMAGE, 3]);
  const cpu: number[] = [];
  const predict = async (input: tf.Tensor): Promise<number> => {
    const startCpu = process.cpuUsage();
    const start = performance.now();
    const out = model.predict(input) as tf.Tensor;
    await out.data();
    out.dispose();
    const ms = performance.now() - start;
    const used = process.cpuUsage(startCpu);
    cpu.push((used.user + used.system) / 1000);
    return ms;
  };
  try {
    // A small image packs the weights and creates the operators; a full-size one also grows the heap,
    // which the first large run would otherwise pay for (cpu skips it: minutes per run).
    if (warmupFull) await predict(image);
    else {
      const small = tf.randomUniform([1, PATCH, PATCH, 3]);
      await predict(small);
      small.dispose();
    }
    cpu.length = 0;
    const times: number[] = [];
    for (let i = 0; i < runs; i++) {
      times.push(await predict(image));
      log(`    inference ${i + 1}/${runs}: ${times.at(-1)!.toFixed(0)} ms (CPU ${cpu.at(-1)!.toFixed(0)} ms)`);
    }
    return { wall: times, cpu };
  } finally {
    image.dispose();
    model.dispose();
  }
}

function row(backend: Row['backend'], bench: Bench, task: 'train' | 'infer', times: Times, batch: number): Measured {
  const ms = median(times.wall);
  const cpuMs = times.cpu.length > 0 ? median(times.cpu) : NaN;
  const reps = times.wall.length;
  if (task === 'train') {
    const flops = 3 * 2 * bench.macsPerPixel * PATCH * PATCH * batch;
    return { backend, model: bench.name, task, medianMs: ms, perSecond: (batch * 1000) / ms, unit: 'patches', gflops: flops / ms / 1e6, reps, batch, cpuMs };
  }
  const pixels = IMAGE[0] * IMAGE[1];
  const flops = 2 * bench.macsPerPixel * pixels;
  return { backend, model: bench.name, task, medianMs: ms, perSecond: pixels / 1e6 / (ms / 1000), unit: 'megapixels', gflops: flops / ms / 1e6, reps, batch: 1, cpuMs };
}

function fmt(n: number, digits: number): string {
  return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** Three significant digits, without exponent notation (0.00648, 5.71, 23.4, 1,234). */
function sig(n: number): string {
  if (n === 0) return '0';
  const digits = Math.max(0, 2 - Math.floor(Math.log10(Math.abs(n))));
  return fmt(n, digits);
}

function table(rows: Measured[]): string {
  const header = ['backend', 'model', 'task', 'reps', 'median ms', 'CPU ms', 'throughput', 'GFLOP/s'];
  const body = rows.map((r) => [
    r.backend,
    r.model,
    r.task === 'train' ? `train b${r.batch}` : 'infer',
    String(r.reps),
    fmt(r.medianMs, 0),
    Number.isFinite(r.cpuMs) ? fmt(r.cpuMs, 0) : '-',
    r.unit === 'patches' ? `${sig(r.perSecond)} patches/s` : `${sig(r.perSecond)} MP/s`,
    sig(r.gflops),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const right = new Set([3, 4, 5, 6, 7]);
  const line = (cells: string[]): string => cells.map((c, i) => (right.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ');
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}

/** Architectures with a Keras twin in scripts/bench-keras.py. */
const KERAS_TWINS = ['reference', 'ffdnet', 'unet'];

/** The Keras peer's rows (for the models being measured that have a twin), or the reason it did not run. */
function kerasPeer(benches: Bench[]): { rows: Measured[]; version: string; mismatches: string[] } | string {
  if (opts.has('no-keras')) return 'skipped (--no-keras)';
  const twins = benches.filter((b) => KERAS_TWINS.includes(b.name));
  if (twins.length === 0) return 'not measured: none of the models measured has a Keras twin';
  const python = typeof opts.get('python') === 'string' ? (opts.get('python') as string) : 'python3';
  log(`keras: timing ${twins.map((b) => b.name).join(', ')} with ${python} scripts/bench-keras.py`);
  const script = new URL('./bench-keras.py', import.meta.url).pathname;
  const result = spawnSync(python, [script, '--steps', String(num('steps', 5)), '--models', twins.map((b) => b.name).join(',')], {
    encoding: 'utf8',
    maxBuffer: 16 * 1024 * 1024,
  });
  if (result.error) return `not measured: ${python} cannot be run (${(result.error as NodeJS.ErrnoException).code})`;
  if (result.status !== 0) {
    const last = result.stderr.trim().split('\n').pop() ?? '';
    return /No module named .?tensorflow/.test(last) ? `not measured: ${python} has no TensorFlow (pip install tensorflow-cpu)` : `not measured: ${last}`;
  }
  type KerasRow = { model: string; task: 'train' | 'infer'; medianMs: number; cpuMs?: number; reps: number; params: number };
  const out = JSON.parse(result.stdout.trim().split('\n').pop()!) as { tensorflow: string; rows: KerasRow[] };
  const mismatches: string[] = [];
  const rows = out.rows.map((r) => {
    const bench = twins.find((b) => b.name === r.model)!;
    if (r.task === 'train') {
      const model = bench.build();
      const params = model.countParams();
      model.dispose();
      if (params !== r.params) mismatches.push(`${r.model}: Keras twin has ${r.params} parameters, the studio's ${params}`);
    }
    const times = { wall: [r.medianMs], cpu: r.cpuMs === undefined ? [] : [r.cpuMs] };
    return { ...row('keras', bench, r.task, times, r.task === 'train' ? BATCH : 1), reps: r.reps };
  });
  return { rows, version: out.tensorflow, mismatches };
}

async function main(): Promise<void> {
  const backends = (list('backends') ?? ['tensorflow', 'wasm', 'cpu']) as BackendName[];
  const wanted = list('models');
  // The zoo measures multiply-adds on a small probe build, which needs some backend; cpu always loads.
  await tf.setBackend('cpu');
  const all = await models();
  const benches = wanted ? all.filter((b) => wanted.includes(b.name)) : all;
  const rows: Measured[] = [];
  const notes: string[] = [];
  const statuses = new Map<BackendName, BackendStatus>();

  for (const backend of backends) {
    let status: BackendStatus;
    try {
      status = await initBackend(backend);
    } catch (error) {
      notes.push(`${backend}: not measured, ${(error as Error).message}`);
      log(`${backend}: unavailable`);
      continue;
    }
    statuses.set(backend, status);
    const slow = backend === 'cpu';
    const runOn = slow && !opts.has('cpu-zoo') ? benches.filter((b) => b.name === 'reference') : benches;
    for (const bench of runOn) {
      const isReference = bench.name === 'reference';
      const batch = slow ? num('cpu-batch', 2) : BATCH;
      const steps = slow ? num('cpu-steps', 2) : num('steps', isReference ? 5 : 2);
      // cpu is not warmed up (no JIT-sized effect next to minutes per step); wasm gets one warm-up step.
      const warmup = slow ? 0 : 1;
      log(`${backend} ${bench.name}: training (${warmup} warm-up + ${steps} steps, batch ${batch})`);
      rows.push(row(backend, bench, 'train', await timeTrain(bench, batch, warmup, steps), batch));
      const runs = slow ? 1 : isReference ? 3 : 2;
      log(`${backend} ${bench.name}: inference on ${IMAGE[0]}x${IMAGE[1]} (${runs} runs)`);
      rows.push(row(backend, bench, 'infer', await timeInfer(bench, !slow, runs), 1));
    }
    if (slow) {
      notes.push(
        `cpu: very slow, so measured with few repetitions at training batch ${num('cpu-batch', 2)} (per-patch rates compare), ${runOn.length === 1 ? 'reference CNN only' : 'all models'}.`,
      );
    }
  }

  const keras = kerasPeer(benches);
  if (typeof keras === 'string') notes.push(`keras: ${keras}`);
  else {
    rows.push(...keras.rows);
    const names = [...new Set(keras.rows.map((r) => r.model))].join(', ');
    notes.push(`keras: ${names} in Keras on TensorFlow ${keras.version} (scripts/bench-keras.py, train_on_batch and a tf.function; same parameter counts)`);
    for (const m of keras.mismatches) notes.push(`keras: NOT the same network: ${m}`);
  }
  // Native over Keras per model with a twin (above 1: the studio is faster), in wall time and in CPU time
  // (what each side's process used, all threads: on a machine busy with other work, the steadier one).
  type Ratios = { train: number | null; infer: number | null; trainCpu: number | null; inferCpu: number | null };
  const nativeOverKeras: Record<string, Ratios> = {};
  for (const model of new Set(rows.filter((r) => r.backend === 'keras').map((r) => r.model))) {
    const pick = (backend: string, task: string) => rows.find((r) => r.backend === backend && r.model === model && r.task === task);
    const over = (task: string, key: 'medianMs' | 'cpuMs'): number | null => {
      const n = pick('tensorflow', task);
      const k = pick('keras', task);
      const ratio = n && k ? k[key] / n[key] : NaN;
      return Number.isFinite(ratio) ? ratio : null;
    };
    nativeOverKeras[model] = { train: over('train', 'medianMs'), infer: over('infer', 'medianMs'), trainCpu: over('train', 'cpuMs'), inferCpu: over('infer', 'cpuMs') };
  }

  const ref = (backend: string, task: string) => rows.find((r) => r.backend === backend && r.model === 'reference' && r.task === task);
  const ratio = (a: Measured | undefined, b: Measured | undefined): number | null => (a && b ? b.medianMs / a.medianMs : null);
  const nativeOverKerasTrain = ratio(ref('tensorflow', 'train'), ref('keras', 'train'));
  const nativeOverKerasInfer = ratio(ref('tensorflow', 'infer'), ref('keras', 'infer'));
  const wasmTrain = ref('wasm', 'train');
  const cpuTrain = ref('cpu', 'train');
  const wasmInfer = ref('wasm', 'infer');
  const wasmOverCpuTrain = wasmTrain && cpuTrain ? wasmTrain.perSecond / cpuTrain.perSecond : 0;

  if (json) {
    const plain = rows.map(({ backend, model, task, medianMs, cpuMs, perSecond, unit, gflops }) => ({ backend, model, task, medianMs, cpuMs, perSecond, unit, gflops }));
    process.stdout.write(`${JSON.stringify({ rows: plain, wasmOverCpuTrain, nativeOverKerasTrain, nativeOverKerasInfer, nativeOverKeras })}\n`);
    return;
  }
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  console.log(`Engine benchmark: ${availableParallelism()} cores (${cpu}), Node ${process.version}`);
  for (const [name, s] of statuses) console.log(`  ${name}: ${s.detail ?? `${s.threads} threads`}`);
  for (const note of notes) console.log(`  ${note}`);
  console.log(`  train: batch of ${BATCH} ${PATCH}x${PATCH} patches, MSE, Adam; infer: one ${IMAGE[0]}x${IMAGE[1]} image.`);
  console.log('  GFLOP/s: 2 x conv/dense multiply-adds per second (training step counted as 3 x forward).\n');
  console.log(table(rows));
  console.log('');
  const x = (n: number | null): string => (n === null ? '-' : `${fmt(n, 2)}x`);
  for (const [model, r] of Object.entries(nativeOverKeras)) {
    if (r.train === null && r.infer === null) continue;
    const cpu = r.trainCpu === null && r.inferCpu === null ? '' : `; CPU time: training ${x(r.trainCpu)}, inference ${x(r.inferCpu)}`;
    console.log(`native / Keras speed, ${model}: training ${x(r.train)}, inference ${x(r.infer)} (target >= 1.0)${cpu}`);
  }
  if (wasmTrain && cpuTrain) console.log(`wasm / cpu training speed, reference CNN: ${fmt(wasmOverCpuTrain, 0)}x (target >= 100x)`);
  if (wasmTrain && wasmInfer) {
    const share = wasmTrain.gflops / wasmInfer.gflops;
    console.log(`wasm training GFLOP/s / inference GFLOP/s, reference CNN: ${fmt(100 * share, 0)}% (target >= 40%)`);
  }
}

await main();
