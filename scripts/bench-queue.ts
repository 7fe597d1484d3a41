// What the Redis queue costs and gives on this machine: photos per second with 1 and 2 `studio worker`
// processes, and the queue's overhead per photo against a local `studio restore` of the same folder.
// Starts its own redis-server on a loopback port. Medians of --repeats runs.
//
// How it is timed, so the numbers compare like with like:
// - local: restoreBatch (what `studio restore` runs) in this process with the model loaded once and warmed
//   on one photo, so a photo's cost has no process start-up in it; and, for reference, the `studio restore`
//   command itself, (T(all) - T(one)) / (photos - 1) (noisy: two ~10 s start-ups are subtracted).
// - queue: the workers are started and warmed (each has loaded the model on warm-up jobs) before the clock
//   starts; the clock runs from `queue add` (in-process: hashing, Redis round trips) until every job is done.
// Usage: npm run bench:queue [-- --photos N --size WxH --repeats R --model ID|DIR]
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Queue } from 'bullmq';
import { initBackend } from '../src/main/engine/backend';
import { median } from '../src/main/engine/train/speed';
import { bundledModelsDir } from '../src/main/paths';
import { restoreBatch } from '../src/main/engine/infer/batch';
import { loadRestoreModel } from '../src/main/engine/infer/model';
import { enqueuePhotos, photosToQueue } from '../src/main/queue/enqueue';
import { withQueue } from '../src/main/queue/status';
import { writeTestImage } from '../tests/helpers/fixtures';
import { startRedis } from '../tests/helpers/redis';

const { values } = parseArgs({
  options: {
    photos: { type: 'string', default: '24' },
    size: { type: 'string', default: '320x240' },
    repeats: { type: 'string', default: '3' },
    model: { type: 'string', default: join(bundledModelsDir(), 'old-photo') },
  },
});
const photos = Number(values.photos);
const repeats = Number(values.repeats);
const [width, height] = values.size.split('x').map(Number) as [number, number];
const model = values.model;
const CLI = ['--import', 'tsx', 'src/main/cli/index.ts'];

function timedCli(args: string[]): number {
  const start = performance.now();
  const result = spawnSync(process.execPath, [...CLI, ...args], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`studio ${args.join(' ')} failed (${result.status}): ${result.stderr}`);
  return (performance.now() - start) / 1000;
}

function startWorker(url: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, [...CLI, 'worker', '--redis', url], { stdio: ['ignore', 'ignore', 'pipe'] });
  return new Promise((resolve, reject) => {
    let log = '';
    child.stderr!.on('data', (chunk: Buffer) => {
      log += chunk.toString();
      if (/waiting for jobs/.test(log)) resolve(child);
    });
    child.on('exit', (code) => reject(new Error(`a worker exited (${code}) before it was ready: ${log}`)));
  });
}

/** Waits until `total` jobs have completed, on one connection, reading counts only (cheap for Redis and the CPU). */
async function drain(queue: Queue, total: number): Promise<void> {
  for (;;) {
    const n = await queue.getJobCounts('waiting', 'active', 'delayed', 'completed', 'failed');
    if (n.failed! > 0) throw new Error(`${n.failed} job(s) failed: see \`studio queue status\``);
    if (n.completed! >= total && n.waiting! + n.active! + n.delayed! === 0) return;
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function main(): Promise<void> {
  const backend = await initBackend();
  const dir = await mkdtemp(join(tmpdir(), 'studio-bench-queue-'));
  const redis = await startRedis();
  const workers: ChildProcess[] = [];
  try {
    const input = join(dir, 'in');
    const one = join(dir, 'one');
    const warm = join(dir, 'warm');
    for (const folder of [input, one, warm]) await mkdir(folder);
    for (let i = 0; i < photos; i++) await writeTestImage(join(input, `p${i}.png`), width, height, i + 1);
    await writeTestImage(join(one, 'p0.png'), width, height, 1);
    for (let i = 0; i < 4; i++) await writeTestImage(join(warm, `w${i}.png`), width, height, 100 + i);
    console.log(`bench:queue: ${photos} photos of ${width}x${height}, model ${model}, backend ${backend.backend}, ${cpus().length} cores, ${repeats} runs each (medians)`);

    const localAll: number[] = [];
    const localOne: number[] = [];
    for (let r = 0; r < repeats; r++) {
      localAll.push(timedCli(['restore', input, '--out', join(dir, `local-${r}`), '--model', model]));
      localOne.push(timedCli(['restore', one, '--out', join(dir, `local-one-${r}`), '--model', model]));
    }
    const cliPerPhoto = (median(localAll) - median(localOne)) / (photos - 1);
    console.log(`local studio restore (command): ${median(localAll).toFixed(1)} s for ${photos}, ${median(localOne).toFixed(1)} s for 1 → ${cliPerPhoto.toFixed(3)} s per photo after start-up`);

    const loaded = await loadRestoreModel(model);
    await restoreBatch({ input: one, out: join(dir, 'inproc-warm'), model: loaded });
    const inProcess: number[] = [];
    for (let r = 0; r < repeats; r++) {
      const start = performance.now();
      await restoreBatch({ input, out: join(dir, `inproc-${r}`), model: loaded });
      inProcess.push((performance.now() - start) / 1000);
    }
    loaded.dispose();
    const localPerPhoto = median(inProcess) / photos;
    console.log(`local restoreBatch, model loaded: ${median(inProcess).toFixed(1)} s for ${photos} → ${(photos / median(inProcess)).toFixed(2)} photos/s (${localPerPhoto.toFixed(3)} s per photo; runs ${inProcess.map((t) => t.toFixed(1)).join(', ')} s)`);

    let added = 0;
    const queueRun = async (out: string, folder: string): Promise<number> => {
      const start = performance.now();
      const found = await photosToQueue(folder, out, false);
      const result = await enqueuePhotos({ ...found, url: redis.url, out, model, format: 'keep', quality: 92 });
      added += result.added;
      await withQueue(redis.url, (queue) => drain(queue, added));
      return (performance.now() - start) / 1000;
    };
    const perPhoto: Record<number, number> = {};
    for (const count of [1, 2]) {
      while (workers.length < count) workers.push(await startWorker(redis.url));
      await queueRun(join(dir, `warm-${count}`), warm);
      const times: number[] = [];
      for (let r = 0; r < repeats; r++) times.push(await queueRun(join(dir, `queue-${count}-${r}`), input));
      const seconds = median(times);
      perPhoto[count] = seconds / photos;
      console.log(`queue, ${count} worker${count === 1 ? '' : 's'}: ${seconds.toFixed(1)} s for ${photos} → ${(photos / seconds).toFixed(2)} photos/s (${(seconds / photos).toFixed(3)} s per photo; runs ${times.map((t) => t.toFixed(1)).join(', ')} s)`);
    }
    const overhead = perPhoto[1]! - localPerPhoto;
    console.log(`queue overhead per photo (1 warm worker against restoreBatch with the model loaded): ${(overhead * 1000).toFixed(0)} ms (${((overhead / localPerPhoto) * 100).toFixed(0)}% of a local photo)`);
    console.log(`2 workers against 1: ${(perPhoto[1]! / perPhoto[2]!).toFixed(2)}x`);
  } finally {
    for (const w of workers) w.kill('SIGTERM');
    await Promise.all(workers.map((w) => new Promise((r) => (w.exitCode !== null ? r(null) : w.once('exit', r)))));
    await redis.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
