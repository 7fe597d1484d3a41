// The Redis job queue as a user runs it: `studio queue add` a folder (twice: nothing is added twice), two
// `studio worker` processes restore it while one is SIGKILLed mid-run (its job is taken over after the lock
// expires), every good photo is restored exactly once and decodes, corrupt ones fail with reasons, a worker
// with another model refuses, SIGTERM stops a worker cleanly, and bad or unreachable Redis URLs are sentences.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import '@tensorflow/tfjs-backend-cpu';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { Queue } from 'bullmq';
import { identityModel, lastJson, residualModel, saveModelFolder, studio, studioChild, tempDir, writePhoto } from '../restore/helpers';
import { isAtomicTempName } from '../../../src/main/fs-atomic';
import { connectRedis, MARKER_DIR, QUEUE_NAME } from '../../../src/main/queue/jobs';
import { useTestBackend } from '../../helpers/native';

const GOOD = 40;
const BAD = ['bad.jpg', 'empty.png', 'truncated.png'];

let root: string;
let cleanup: () => Promise<void>;
let redis: ChildProcess;
let url: string;
let modelDir: string;
const workers: ChildProcess[] = [];

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

async function waitFor<T>(what: string, check: () => Promise<T | null>, timeoutMs: number): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await check().catch(() => null);
    if (value !== null) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function counts(): Promise<Record<string, number>> {
  const client = await connectRedis(url);
  const queue = new Queue(QUEUE_NAME, { connection: client });
  try {
    return await queue.getJobCounts('waiting', 'active', 'completed', 'failed', 'delayed');
  } finally {
    await queue.close();
    client.disconnect();
  }
}

interface Running {
  child: ChildProcess;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: string | null }>;
}

function startWorker(args: string[] = []): Running {
  const child = studioChild(['worker', '--redis', url, '--lock-seconds', '3', ...args]);
  workers.push(child);
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdout!.resume();
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return { child, stderr: () => stderr, exited };
}

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) out.push(join(entry.parentPath, entry.name));
  }
  return out;
}

before(async () => {
  await useTestBackend();
  ({ dir: root, cleanup } = await tempDir('studio-queue-'));
  const port = await freePort();
  url = `redis://127.0.0.1:${port}`;
  redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  await waitFor('redis-server', async () => {
    (await connectRedis(url)).disconnect();
    return true;
  }, 10_000);
  modelDir = join(root, 'model');
  const model = identityModel();
  await saveModelFolder(model, modelDir);
  model.dispose();
  const input = join(root, 'in');
  await mkdir(join(input, 'sub'), { recursive: true });
  for (let i = 0; i < GOOD; i++) await writePhoto(join(input, i % 4 === 0 ? 'sub' : '', `p${String(i).padStart(2, '0')}.png`), 48, 36, { seed: i, format: 'png' });
  await writeFile(join(input, 'bad.jpg'), 'this is not a jpeg');
  await writeFile(join(input, 'empty.png'), '');
  await writeFile(join(input, 'truncated.png'), (await readFile(join(input, 'p01.png'))).subarray(0, 60));
});

after(async () => {
  for (const w of workers) if (w.exitCode === null && w.signalCode === null) w.kill('SIGKILL');
  redis?.kill('SIGKILL');
  await cleanup();
});

test('bad Redis URLs and a Redis that is down are sentences, quickly', async () => {
  const bad = studio(['queue', 'status', '--redis', 'localhost:6379']);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--redis must start with redis:\/\/ or rediss:\/\//);
  const down = `redis://127.0.0.1:${await freePort()}`;
  let started = Date.now();
  const status = studio(['queue', 'status', '--redis', down, '--json']);
  // A few seconds of connect timeout at most, plus the CLI's start on a busy machine; never a hang.
  assert.ok(Date.now() - started < 20_000, 'status failed within seconds');
  assert.equal(status.status, 1);
  assert.match(status.stderr, /Cannot reach Redis at redis:\/\/127\.0\.0\.1:\d+\/?: nothing is listening there/);
  assert.equal(lastJson<{ error: { code: string } }>(status.stdout).error.code, 'ENGINE_UNAVAILABLE');
  started = Date.now();
  const add = studio(['queue', 'add', join(root, 'in'), '--redis', down, '--out', join(root, 'out'), '--model', modelDir]);
  assert.equal(add.status, 1);
  assert.match(add.stderr, /Cannot reach Redis/);
  assert.ok(Date.now() - started < 20_000, 'add failed within seconds');
  const worker = studio(['worker', '--redis', down]);
  assert.equal(worker.status, 1);
  assert.match(worker.stderr, /Cannot reach Redis/);
});

test('two workers, one SIGKILLed mid-run: every good photo restored exactly once, corrupt ones failed with reasons', async () => {
  const started = Date.now();
  const out = join(root, 'out');
  const args = ['queue', 'add', join(root, 'in'), '--redis', url, '--out', out, '--model', modelDir, '--recursive', '--json'];
  const first = studio(args);
  assert.equal(first.status, 0, first.stderr);
  assert.deepEqual(
    (({ added, alreadyQueued }) => ({ added, alreadyQueued }))(lastJson<{ added: number; alreadyQueued: number }>(first.stdout)),
    { added: GOOD + BAD.length, alreadyQueued: 0 },
  );
  const again = studio(args);
  assert.equal(again.status, 0, again.stderr);
  assert.equal(lastJson<{ added: number }>(again.stdout).added, 0);
  assert.equal(lastJson<{ alreadyQueued: number }>(again.stdout).alreadyQueued, GOOD + BAD.length);
  assert.equal((await counts()).waiting, GOOD + BAD.length);

  const a = startWorker(['--concurrency', '2']);
  const b = startWorker();
  // Kill A while it is working: after its third photo, with more waiting.
  await waitFor('worker A to restore 3 photos', async () => ((a.stderr().match(/^done /gm) ?? []).length >= 3 ? true : null), 60_000);
  a.child.kill('SIGKILL');
  assert.equal((await a.exited).signal, 'SIGKILL');
  const final = await waitFor('the queue to drain', async () => {
    const c = await counts();
    return c.completed! + c.failed! === GOOD + BAD.length && c.active === 0 && c.waiting === 0 ? c : null;
  }, 60_000);
  assert.equal(final.completed, GOOD);
  assert.equal(final.failed, BAD.length);

  // Exactly once: no photo is written by both workers; every good one is written (or found written) once.
  const lines = (a.stderr() + b.stderr()).split('\n');
  for (let i = 0; i < GOOD; i++) {
    const name = `p${String(i).padStart(2, '0')}.png`;
    const done = lines.filter((l) => l.startsWith('done ') && l.includes(`${name} →`)).length;
    const skipped = lines.filter((l) => l.startsWith('skipped ') && l.includes(`${name} →`)).length;
    assert.ok(done <= 1, `${name} restored ${done} times`);
    assert.ok(done + skipped >= 1, `${name} never restored`);
  }
  const written = (await filesUnder(out)).filter((f) => !f.includes(MARKER_DIR));
  assert.deepEqual(written.filter((f) => isAtomicTempName(f.split('/').pop()!)), [], 'no partial file remains');
  assert.equal(written.length, GOOD);
  for (const file of written) {
    const meta = await sharp(file).metadata();
    assert.deepEqual([meta.width, meta.height], [48, 36]);
  }
  assert.equal(written.filter((f) => f.includes('/sub/')).length, GOOD / 4, 'subfolders are mirrored');

  const status = studio(['queue', 'status', '--redis', url, '--json']);
  const s = lastJson<{ waiting: number; active: number; completed: number; failed: number; failures: { file: string; reason: string }[] }>(status.stdout);
  assert.deepEqual([s.waiting, s.active, s.completed, s.failed], [0, 0, GOOD, BAD.length]);
  const reasons = Object.fromEntries(s.failures.map((f) => [f.file, f.reason]));
  assert.deepEqual(Object.keys(reasons).sort(), BAD);
  assert.equal(reasons['empty.png'], 'empty file (0 bytes)');
  for (const reason of Object.values(reasons)) assert.doesNotMatch(reason, /stalled|^$/);
  const human = studio(['queue', 'status', '--redis', url]);
  assert.match(human.stdout, new RegExp(`0 waiting, 0 active, ${GOOD} completed, ${BAD.length} failed`));
  assert.match(human.stdout, /bad\.jpg: /);

  // SIGTERM: the worker finishes what it has and exits cleanly.
  b.child.kill('SIGTERM');
  const exit = await b.exited;
  assert.equal(exit.code, 0, b.stderr());
  assert.match(b.stderr(), /Worker stopped\./);

  // A job queued with one model is refused by a worker whose files under that name differ (started after they changed).
  const other = join(root, 'other-model');
  const m1 = identityModel();
  await saveModelFolder(m1, other);
  m1.dispose();
  await mkdir(join(root, 'one'));
  await writePhoto(join(root, 'one', 'x.png'), 48, 36, { seed: 99, format: 'png' });
  assert.equal(studio(['queue', 'add', join(root, 'one'), '--redis', url, '--out', join(root, 'out-one'), '--model', other]).status, 0);
  const m2 = residualModel(3, 4);
  await saveModelFolder(m2, other);
  m2.dispose();
  const c = startWorker();
  await waitFor('the mismatched job to fail', async () => (/^FAILED x\.png/m.test(c.stderr()) ? true : null), 40_000);
  assert.equal((await counts()).failed, BAD.length + 1);
  assert.match(c.stderr(), /FAILED x\.png: the model ".*other-model" on this worker \(fingerprint \w+\) is not the one the job was queued with/);

  c.child.kill('SIGTERM');
  assert.equal((await c.exited).code, 0, c.stderr());

  const retried = studio(['queue', 'retry-failed', '--redis', url, '--json']);
  assert.equal(lastJson<{ retried: number }>(retried.stdout).retried, BAD.length + 1);
  assert.equal((await counts()).waiting, BAD.length + 1);
  const cleared = studio(['queue', 'clear', '--redis', url, '--json']);
  assert.equal(lastJson<{ removed: number }>(cleared.stdout).removed, GOOD + BAD.length + 1);
  const empty = await counts();
  assert.deepEqual([empty.waiting, empty.active, empty.completed, empty.failed, empty.delayed], [0, 0, 0, 0, 0]);
  console.log(`queue: ${GOOD + BAD.length} photos, 2 workers (one SIGKILLed), ${((Date.now() - started) / 1000).toFixed(1)} s`);
});
