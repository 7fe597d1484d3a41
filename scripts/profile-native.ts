// Where the time of a native (tfjs-node) training step and inference goes, per TensorFlow op.
//
//   npx tsx scripts/profile-native.ts [--models reference,ffdnet,unet] [--steps 3] [--runs 2] [--top 18]
//   STUDIO_NATIVE_KERNELS=0 npx tsx scripts/profile-native.ts   (tfjs-node's kernels as they ship)
//
// Issue #13 asks for native speed at or above Keras; this is the measurement behind each change. It wraps
// the N-API binding's executeOp (every TensorFlow op tfjs-node runs goes through it, synchronously), so each
// row is a real TF op with its own time, and nothing is counted twice (tf.profile() lists a kernel and the
// kernels it calls inside). For one training step (the step of src/main/engine/train/speed.ts: forward,
// MSE, backward, Adam, batch 16 of 64x64) and one 576x720 inference per model it prints:
//   - wall and process CPU time, the CPU spent inside TF ops and outside them (JavaScript: tape, gradient
//     bookkeeping, tensor handles, scalars written to TensorFlow),
//   - ops per step, and the ops ranked by CPU time (count, CPU ms, share of the step's CPU, wall ms).
// CPU time is what to compare on a loaded machine: wall time counts the waits for a core.
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { initBackend } from '../src/main/engine/backend';
import { getArchitecture } from '../src/main/engine/models';
import { buildReferenceCnn } from '../src/main/engine/models/reference';
import { timeTrainSteps } from '../src/main/engine/train/speed';

type ExecuteOp = (name: string, attrs: unknown[], inputs: number[], outputs: number) => unknown;

const argv = process.argv.slice(2);
const opt = (key: string, fallback: string): string => {
  const i = argv.indexOf(`--${key}`);
  return i >= 0 && argv[i + 1] ? argv[i + 1]! : fallback;
};

interface OpStat {
  count: number;
  /** Wall milliseconds. */
  ms: number;
  /** Process CPU milliseconds (all threads): what the op costs, whatever else the machine is doing. */
  cpu: number;
}

const stats = new Map<string, OpStat>();
let recording = false;

function instrument(): void {
  // The binding's methods are read-only: the backend gets a copy of it whose executeOp is timed.
  const backend = tf.backend() as unknown as { binding: Record<string | symbol, unknown> & { executeOp: ExecuteOp } };
  const binding = backend.binding;
  const original = binding.executeOp.bind(binding);
  const timed: ExecuteOp = (name, attrs, inputs, outputs) => {
    if (!recording) return original(name, attrs, inputs, outputs);
    const cpu = process.cpuUsage();
    const start = performance.now();
    const result = original(name, attrs, inputs, outputs);
    const ms = performance.now() - start;
    const used = process.cpuUsage(cpu);
    const s = stats.get(name) ?? { count: 0, ms: 0, cpu: 0 };
    s.count++;
    s.ms += ms;
    s.cpu += (used.user + used.system) / 1000;
    stats.set(name, s);
    return result;
  };
  // A plain copy (a Proxy may not change a read-only property): constants as they are, functions bound.
  const copy: Record<string | symbol, unknown> = {};
  for (const key of Object.getOwnPropertyNames(binding)) {
    const value = binding[key];
    copy[key] = typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(binding) : value;
  }
  copy.executeOp = timed;
  backend.binding = copy as typeof binding;
}

function report(title: string, run: { wall: number; cpu: number }, repeats: number): void {
  const rows = [...stats.entries()]
    .map(([name, s]) => ({ name, count: s.count / repeats, ms: s.ms / repeats, cpu: s.cpu / repeats }))
    .sort((a, b) => b.cpu - a.cpu);
  const opCpu = rows.reduce((a, r) => a + r.cpu, 0);
  const ops = rows.reduce((a, r) => a + r.count, 0);
  console.log(
    `\n${title}: wall ${run.wall.toFixed(1)} ms, CPU ${run.cpu.toFixed(1)} ms; in TF ops ${opCpu.toFixed(1)} ms CPU (${((100 * opCpu) / run.cpu).toFixed(0)}%), ` +
      `outside them ${(run.cpu - opCpu).toFixed(1)} ms; ${ops.toFixed(0)} ops`,
  );
  console.log(`  ${'op'.padEnd(30)} ${'count'.padStart(5)}  ${'CPU ms'.padStart(8)}  ${'share'.padStart(6)}  ${'wall ms'.padStart(8)}`);
  for (const r of rows.slice(0, Number(opt('top', '18')))) {
    const share = `${((100 * r.cpu) / run.cpu).toFixed(1)}%`;
    console.log(`  ${r.name.padEnd(30)} ${r.count.toFixed(0).padStart(5)}  ${r.cpu.toFixed(1).padStart(8)}  ${share.padStart(6)}  ${r.ms.toFixed(1).padStart(8)}`);
  }
  stats.clear();
}

/** Wall and process CPU milliseconds of `fn`. */
async function measure(fn: () => Promise<unknown>): Promise<{ wall: number; cpu: number }> {
  const cpu = process.cpuUsage();
  const start = performance.now();
  await fn();
  const used = process.cpuUsage(cpu);
  return { wall: performance.now() - start, cpu: (used.user + used.system) / 1000 };
}

function build(name: string): tfl.LayersModel {
  return name === 'reference' ? buildReferenceCnn() : getArchitecture(name).build();
}

async function main(): Promise<void> {
  const status = await initBackend(opt('backend', 'tensorflow') as 'tensorflow');
  console.log(`${status.detail}`);
  instrument();
  const steps = Number(opt('steps', '3'));
  const runs = Number(opt('runs', '2'));
  for (const name of opt('models', 'reference,ffdnet,unet').split(',')) {
    const model = build(name);
    // Warm-up step untimed; then `steps` recorded steps.
    await timeTrainSteps(model, { batch: 16, height: 64, width: 64, warmup: 1, steps: 0 });
    recording = true;
    const train = await measure(() => timeTrainSteps(model, { batch: 16, height: 64, width: 64, warmup: 0, steps }));
    recording = false;
    report(`${name} train step (batch 16, 64x64)`, { wall: train.wall / steps, cpu: train.cpu / steps }, steps);

    const image = tf.randomUniform([1, 576, 720, 3]);
    const predict = async (): Promise<void> => {
      const out = model.predict(image) as tf.Tensor;
      await out.data();
      out.dispose();
    };
    await predict();
    recording = true;
    const infer = await measure(async () => {
      for (let i = 0; i < runs; i++) await predict();
    });
    recording = false;
    report(`${name} inference (576x720)`, { wall: infer.wall / runs, cpu: infer.cpu / runs }, runs);
    image.dispose();
    model.dispose();
  }
}

await main();
