// The Redis job queue as a user runs it: `studio queue add` a folder (twice: nothing is added twice), three
// `studio worker` processes restore it while one is SIGKILLed holding jobs (another worker completes exactly
// those, once each) and Redis itself is stopped and restarted from its append-only file (the workers reconnect
// and finish); every good photo is restored exactly once and decodes, corrupt ones fail with reasons, a worker
// with another model refuses, SIGTERM stops a worker cleanly, a list file is queued with its missing entries
// named, and bad or unreachable Redis URLs are sentences.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import '@tensorflow/tfjs-backend-cpu';
import type { ChildProcess } from 'node:child_process';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import * as tf from '@tensorflow/tfjs-core';
import { Job, Queue } from 'bullmq';
import { brightDetectorModel, identityModel, lastJson, residualModel, saveModelFolder, studio, studioChild, tempDir, writePhoto, type CliResult } from '../restore/helpers';
import { savePackage } from '../../../src/main/engine/package/index';
import { ARCHITECTURES } from '../../../src/main/engine/models/index';
import { isAtomicTempName } from '../../../src/main/fs-atomic';
import { connectRedis, MARKER_DIR, parseRedisUrl, QUEUE_NAME, type RestoreJob } from '../../../src/main/queue/jobs';
import { useTestBackend } from '../../helpers/native';
import { freePort, startRedis, type RedisServer } from '../../helpers/redis';

// 200 small photos (the size) in a few folders, plus three that cannot be read.
const GOOD = 200;
const BAD = ['bad.jpg', 'empty.png', 'truncated.png'];
const TOTAL = GOOD + BAD.length;
const photoName = (i: number): string => `p${String(i).padStart(3, '0')}.png`;

let root: string;
let cleanup: () => Promise<void>;
let redis: RedisServer;
let url: string;
let modelDir: string;
const workers: ChildProcess[] = [];

async function waitFor<T>(what: string, check: () => Promise<T | null>, timeoutMs: number): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await check().catch(() => null);
    if (value !== null) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function withQueue<T>(use: (queue: Queue) => Promise<T>): Promise<T> {
  const client = await connectRedis(url);
  const queue = new Queue(QUEUE_NAME, { connection: client });
  try {
    return await use(queue);
  } finally {
    await queue.close();
    client.disconnect();
  }
}

const counts = (): Promise<Record<string, number>> => withQueue((q) => q.getJobCounts('waiting', 'active', 'completed', 'failed', 'delayed'));

/** The CLI as a child process without blocking the test, so independent commands can run side by side. */
function studioAsync(args: string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = studioChild(args);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('exit', (status) => resolve({ status, stdout, stderr }));
  });
}

interface Running {
  child: ChildProcess;
  /** BullMQ's processedBy for this worker: host:pid, printed on its first line. */
  name: () => string;
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
  const name = (): string => /^Worker (\S+) on /m.exec(stderr)?.[1] ?? '(not started)';
  return { child, name, stderr: () => stderr, exited };
}

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) out.push(join(entry.parentPath, entry.name));
  }
  return out;
}

const linesFor = (log: string, kind: 'done' | 'skipped', file: string): number => log.split('\n').filter((l) => l.startsWith(`${kind} ${file} →`)).length;

before(async () => {
  await useTestBackend();
  ({ dir: root, cleanup } = await tempDir('studio-queue-'));
  // Persistent (AOF, fsync always): the restart in the middle of the run must keep every job.
  redis = await startRedis({ dir: join(root, 'redis-data') });
  url = redis.url;
  modelDir = join(root, 'model');
  const model = identityModel();
  await saveModelFolder(model, modelDir);
  model.dispose();
  const input = join(root, 'in');
  await mkdir(join(input, 'sub'), { recursive: true });
  for (let i = 0; i < GOOD; i++) await writePhoto(join(input, i % 4 === 0 ? 'sub' : '', photoName(i)), 48, 36, { seed: i, format: 'png' });
  await writeFile(join(input, 'bad.jpg'), 'this is not a jpeg');
  await writeFile(join(input, 'empty.png'), '');
  await writeFile(join(input, 'truncated.png'), (await readFile(join(input, photoName(1)))).subarray(0, 60));
});

after(async () => {
  for (const w of workers) if (w.exitCode === null && w.signalCode === null) w.kill('SIGKILL');
  redis?.kill();
  await cleanup();
});

test('bad Redis URLs and a Redis that is down are sentences, quickly', async () => {
  // The URL checks themselves, each a sentence quoting what was given.
  assert.throws(() => parseRedisUrl(undefined), /Give the queue's Redis with --redis/);
  assert.throws(() => parseRedisUrl('not a url'), /--redis must be a URL like redis:\/\/host:6379 \(got "not a url"\)/);
  assert.throws(() => parseRedisUrl('http://localhost:6379'), /--redis must start with redis:\/\/ or rediss:\/\/ \(got "http:\/\/localhost:6379"\)/);
  assert.throws(() => parseRedisUrl('redis://'), /--redis names no host \(got "redis:\/\/"\)/);
  // An unknown host is refused within the connect timeout (no DNS here may also mean no answer at all).
  await assert.rejects(connectRedis('redis://no-such-host.invalid:6379'), /Cannot reach Redis at redis:\/\/no-such-host\.invalid:6379\/?: (the host name is unknown|no answer within 3 s)\./);
  const withPassword = `redis://user:secret@127.0.0.1:${await freePort()}`;
  await assert.rejects(connectRedis(withPassword), (error: Error) => !error.message.includes('secret') && /user:\*\*\*@/.test(error.message));

  // The commands: a URL without a scheme is a usage error; a Redis that is down fails each command in seconds.
  const down = `redis://127.0.0.1:${await freePort()}`;
  const started = Date.now();
  const [bad, status, add, worker] = await Promise.all([
    studioAsync(['queue', 'status', '--redis', 'localhost:6379']),
    studioAsync(['queue', 'status', '--redis', down, '--json']),
    studioAsync(['queue', 'add', join(root, 'in'), '--redis', down, '--out', join(root, 'out'), '--model', modelDir]),
    studioAsync(['worker', '--redis', down]),
  ]);
  // A few seconds of connect timeout at most, plus four CLI starts side by side on a busy machine; never a hang.
  assert.ok(Date.now() - started < 45_000, `the commands failed within seconds (${Date.now() - started} ms)`);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--redis must start with redis:\/\/ or rediss:\/\//);
  assert.equal(status.status, 1);
  assert.match(status.stderr, /Cannot reach Redis at redis:\/\/127\.0\.0\.1:\d+\/?: nothing is listening there \(is redis-server running\?\)/);
  assert.equal(lastJson<{ error: { code: string } }>(status.stdout).error.code, 'ENGINE_UNAVAILABLE');
  assert.equal(add.status, 1);
  assert.match(add.stderr, /Cannot reach Redis/);
  assert.equal(worker.status, 1);
  assert.match(worker.stderr, /Cannot reach Redis/);
});

test('three workers, one SIGKILLed holding jobs and Redis restarted mid-run: every good photo restored exactly once, corrupt ones failed with reasons', async () => {
  const started = Date.now();
  const out = join(root, 'out');
  const args = ['queue', 'add', join(root, 'in'), '--redis', url, '--out', out, '--model', modelDir, '--recursive', '--json'];
  const first = studio(args);
  assert.equal(first.status, 0, first.stderr);
  assert.deepEqual(
    (({ added, alreadyQueued }) => ({ added, alreadyQueued }))(lastJson<{ added: number; alreadyQueued: number }>(first.stdout)),
    { added: TOTAL, alreadyQueued: 0 },
  );
  const again = studio(args);
  assert.equal(again.status, 0, again.stderr);
  assert.equal(lastJson<{ added: number }>(again.stdout).added, 0);
  assert.equal(lastJson<{ alreadyQueued: number }>(again.stdout).alreadyQueued, TOTAL);
  assert.equal((await counts()).waiting, TOTAL);

  const a = startWorker(['--concurrency', '2']);
  const b = startWorker();
  const c = startWorker();

  // Kill A while it holds jobs: once it has finished three and is working on more. The jobs it held are the
  // ones still active under its name after it is dead (no one else can move them until their lock expires).
  await waitFor('worker A to restore 3 photos', async () => ((a.stderr().match(/^done /gm) ?? []).length >= 3 ? true : null), 90_000);
  await waitFor('worker A to hold a job', async () => ((await withQueue((q) => q.getActive())).some((j) => j.processedBy === a.name()) ? true : null), 30_000);
  a.child.kill('SIGKILL');
  assert.equal((await a.exited).signal, 'SIGKILL');
  const orphaned = (await withQueue((q) => q.getActive())).filter((j) => j.processedBy === a.name());
  assert.ok(orphaned.length > 0, 'worker A died holding at least one job');

  // Redis goes away mid-run and comes back on the same port from its AOF. The survivors must be at work by
  // then: a worker that has not connected once yet is meant to stop with a sentence, not wait forever.
  await waitFor('workers B and C to restore a photo', async () => (/^done /m.test(b.stderr()) && /^done /m.test(c.stderr()) ? true : null), 90_000);
  const beforeRestart = await counts();
  assert.ok(beforeRestart.waiting! > 10, `photos are still waiting when Redis stops (${beforeRestart.waiting})`);
  const logged = { b: b.stderr().length, c: c.stderr().length };
  await redis.stop();
  await new Promise((r) => setTimeout(r, 1500));
  await redis.start();
  const afterRestart = await counts();
  assert.equal(Object.values(afterRestart).reduce((s, n) => s + n, 0), TOTAL, 'every job survived the restart');
  assert.ok(afterRestart.completed! >= beforeRestart.completed!, 'no finished job was lost');

  const final = await waitFor('the queue to drain', async () => {
    const n = await counts();
    return n.completed! + n.failed! === TOTAL && n.active === 0 && n.waiting === 0 && n.delayed === 0 ? n : null;
  }, 150_000);
  assert.equal(final.completed, GOOD);
  assert.equal(final.failed, BAD.length);
  // Both survivors reconnected: each finished photos after the restart.
  assert.match(b.stderr().slice(logged.b), /^done /m, `B restored nothing after Redis came back:\n${b.stderr().slice(logged.b)}`);
  assert.match(c.stderr().slice(logged.c), /^done /m, `C restored nothing after Redis came back:\n${c.stderr().slice(logged.c)}`);

  // The takeover really happened: every job A died holding was found stalled and completed by B or C, once.
  const survivors = [b.name(), c.name()];
  for (const held of orphaned) {
    const job = (await withQueue((q) => Job.fromId<RestoreJob>(q, held.id!)))!;
    const file = job.data.file;
    assert.ok(job.finishedOn && !job.failedReason, `${file}: finished without failing`);
    assert.ok(survivors.includes(job.processedBy!), `${file}: completed by a survivor (was ${job.processedBy})`);
    assert.ok(job.stalledCounter >= 1, `${file}: recovered as a stalled job`);
    assert.equal(linesFor(a.stderr(), 'done', file), 0, `${file}: A never reported it done`);
    const byOthers = linesFor(b.stderr() + c.stderr(), 'done', file) + linesFor(b.stderr() + c.stderr(), 'skipped', file);
    assert.equal(byOthers, 1, `${file}: finished once by the survivors`);
  }

  // Exactly once: no photo is reported restored twice; every good one is restored (or found restored) once.
  // A photo A completed in Redis just before the SIGKILL may have no line in A's log (it died before writing
  // it): its output file is what shows it was restored.
  const all = a.stderr() + b.stderr() + c.stderr();
  const written = (await filesUnder(out)).filter((f) => !f.includes(MARKER_DIR));
  for (let i = 0; i < GOOD; i++) {
    const file = join(i % 4 === 0 ? 'sub' : '', photoName(i));
    const done = linesFor(all, 'done', file);
    assert.ok(done <= 1, `${file} restored ${done} times`);
    assert.ok(done + linesFor(all, 'skipped', file) >= 1 || written.includes(join(out, file)), `${file} never restored`);
  }
  assert.deepEqual(written.filter((f) => isAtomicTempName(f.split('/').pop()!)), [], 'no partial file remains');
  assert.equal(written.length, GOOD);
  for (const file of written) {
    const meta = await sharp(file).metadata();
    assert.deepEqual([meta.width, meta.height], [48, 36]);
  }
  assert.equal(written.filter((f) => f.includes('/sub/')).length, GOOD / 4, 'subfolders are mirrored');

  const [status, human] = await Promise.all([studioAsync(['queue', 'status', '--redis', url, '--json']), studioAsync(['queue', 'status', '--redis', url])]);
  const s = lastJson<{ waiting: number; active: number; completed: number; failed: number; failures: { file: string; reason: string }[] }>(status.stdout);
  assert.deepEqual([s.waiting, s.active, s.completed, s.failed], [0, 0, GOOD, BAD.length]);
  const reasons = Object.fromEntries(s.failures.map((f) => [f.file, f.reason]));
  assert.deepEqual(Object.keys(reasons).sort(), BAD);
  assert.equal(reasons['empty.png'], 'empty file (0 bytes)');
  for (const reason of Object.values(reasons)) assert.doesNotMatch(reason, /stalled|^$/);
  assert.match(human.stdout, new RegExp(`0 waiting, 0 active, ${GOOD} completed, ${BAD.length} failed`));
  assert.match(human.stdout, /bad\.jpg: /);

  // SIGTERM: C finishes what it has and exits cleanly.
  c.child.kill('SIGTERM');
  assert.equal((await c.exited).code, 0, c.stderr());
  assert.match(c.stderr(), /Worker stopped\./);

  // A job queued with one model is refused by a worker whose files under that name differ. B has not loaded
  // this model yet (models load on a worker's first job that names them), so it reads the changed files;
  // the queue is paused meanwhile so B cannot take the job before they change.
  const other = join(root, 'other-model');
  const m1 = identityModel();
  await saveModelFolder(m1, other);
  m1.dispose();
  await mkdir(join(root, 'one'));
  await writePhoto(join(root, 'one', 'x.png'), 48, 36, { seed: 999, format: 'png' });
  await withQueue((q) => q.pause());
  const queued = studio(['queue', 'add', join(root, 'one'), '--redis', url, '--out', join(root, 'out-one'), '--model', other]);
  assert.equal(queued.status, 0, queued.stderr);
  const m2 = residualModel(3, 4);
  await saveModelFolder(m2, other);
  m2.dispose();
  await withQueue((q) => q.resume());
  await waitFor('the mismatched job to fail', async () => (/^FAILED x\.png/m.test(b.stderr()) ? true : null), 40_000);
  assert.equal((await counts()).failed, BAD.length + 1);
  assert.match(b.stderr(), /FAILED x\.png: the model ".*other-model" on this worker \(fingerprint \w+\) is not the one the job was queued with/);
  b.child.kill('SIGTERM');
  assert.equal((await b.exited).code, 0, b.stderr());

  const retried = studio(['queue', 'retry-failed', '--redis', url, '--json']);
  assert.equal(lastJson<{ retried: number }>(retried.stdout).retried, BAD.length + 1);
  assert.equal((await counts()).waiting, BAD.length + 1);
  const cleared = studio(['queue', 'clear', '--redis', url, '--json']);
  assert.equal(lastJson<{ removed: number }>(cleared.stdout).removed, TOTAL + 1);
  const empty = await counts();
  assert.deepEqual([empty.waiting, empty.active, empty.completed, empty.failed, empty.delayed], [0, 0, 0, 0, 0]);
  console.log(`queue: ${TOTAL} photos, 3 workers (one SIGKILLed holding ${orphaned.length} job(s)), Redis restarted, ${((Date.now() - started) / 1000).toFixed(1)} s`);
});

test('queue add takes a list file: blank lines and comments skipped, missing entries named, the rest queued', async () => {
  const lists = join(root, 'lists');
  await mkdir(lists);
  const list = join(lists, 'photos.txt');
  await writeFile(
    list,
    ['# photos picked for the exhibition', '', `../in/${photoName(1)}`, join(root, 'in', 'sub', photoName(4)), '  ', '../in/gone.png', `../in/${photoName(1)}`, '../in', '# done'].join('\n') + '\n',
  );
  const out = join(root, 'out-list');
  const result = studio(['queue', 'add', list, '--redis', url, '--out', out, '--model', modelDir, '--json']);
  // Exit 1: something listed was not queued; the rest is.
  assert.equal(result.status, 1, result.stderr);
  const summary = lastJson<{ added: number; skipped: { line: number; path: string; reason: string }[] }>(result.stdout);
  assert.equal(summary.added, 2);
  assert.deepEqual(
    summary.skipped.map(({ line, path }) => [line, path]),
    [
      [6, '../in/gone.png'],
      [8, '../in'],
    ],
  );
  assert.match(summary.skipped[0]!.reason, /^\.\.\/in\/gone\.png \(line 6 of .*photos\.txt\) does not exist$/);
  assert.match(summary.skipped[1]!.reason, /is not a file$/);
  assert.match(result.stderr, /\.\.\/in\/gone\.png \(line 6 of .*photos\.txt\) does not exist/);
  // The outputs mirror the paths below the folder holding every listed photo (here: in/).
  const jobs = await withQueue((q) => q.getWaiting());
  assert.deepEqual(jobs.map((j) => (j.data as RestoreJob).output).sort(), [photoName(1), join('sub', photoName(4))]);
  assert.ok(jobs.every((j) => (j.data as RestoreJob).root === join(root, 'in') && (j.data as RestoreJob).out === out));

  // A list whose entries are all missing queues nothing and says so.
  await writeFile(join(lists, 'none.txt'), 'nothing-here.jpg\n');
  const none = studio(['queue', 'add', join(lists, 'none.txt'), '--redis', url, '--out', out, '--model', modelDir]);
  assert.equal(none.status, 1);
  assert.match(none.stderr, /nothing-here\.jpg \(line 1 of .*none\.txt\) does not exist/);
  assert.match(none.stderr, /No photos to queue: every entry of .*none\.txt was skipped\./);
  await withQueue((q) => q.obliterate({ force: true }));
});

/**
 * A restore stage through the queue, as a user runs it: `queue add` a one-photo folder with the stage's flags
 * (twice: the second adds nothing) and without them (another job), a strength out of range refused in words,
 * one worker until both jobs are done, and `studio restore` with the same flags locally. Returns the decoded
 * pixels of the worker's output with the stage, without it, and the local restore's.
 */
async function stageThroughQueue(input: string, name: string, flags: string[], badFlags: string[], badMessage: RegExp): Promise<{ staged: Buffer; plain: Buffer; local: Buffer }> {
  const staged = join(root, `out-${name}`);
  const plain = join(root, `out-${name}-without`);
  const add = (out: string, extra: string[]): CliResult => studio(['queue', 'add', input, '--redis', url, '--out', out, '--model', modelDir, ...extra, '--json']);
  const first = add(staged, flags);
  assert.equal(first.status, 0, first.stderr);
  assert.equal(lastJson<{ added: number }>(first.stdout).added, 1);
  assert.equal(lastJson<{ alreadyQueued: number }>(add(staged, flags).stdout).alreadyQueued, 1);
  assert.equal(lastJson<{ added: number }>(add(plain, []).stdout).added, 1, 'with and without the stage are two jobs');
  const bad = studio(['queue', 'add', input, '--redis', url, '--out', plain, '--model', modelDir, ...badFlags]);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, badMessage);

  const worker = startWorker();
  await waitFor('both jobs', async () => (((await counts()).completed ?? 0) >= 2 ? true : null), 60_000);
  worker.child.kill('SIGTERM');
  await worker.exited;
  const local = join(root, `out-${name}-local`);
  assert.equal(studio(['restore', input, '--out', local, '--model', modelDir, ...flags]).status, 0);
  const raw = (dir: string): Promise<Buffer> => sharp(join(dir, 'print.png')).raw().toBuffer();
  return { staged: await raw(staged), plain: await raw(plain), local: await raw(local) };
}

test('queue add --tone: a worker brings back a faded photo as studio restore --tone does; with and without tone are two jobs', async () => {
  const input = join(root, 'faded');
  await mkdir(input);
  // A faded, yellowed print: low contrast around a light grey, with more red and green than blue.
  const w = 64;
  const h = 48;
  const pixels = Buffer.alloc(w * h * 3);
  for (let p = 0; p < w * h; p++) {
    const v = 0.5 + 0.4 * Math.sin(p * 0.05) * Math.cos(Math.floor(p / w) * 0.1);
    pixels[p * 3] = Math.round(255 * (0.45 + 0.25 * v));
    pixels[p * 3 + 1] = Math.round(255 * (0.42 + 0.25 * v));
    pixels[p * 3 + 2] = Math.round(255 * (0.3 + 0.25 * v));
  }
  await writeFile(join(input, 'print.png'), await sharp(pixels, { raw: { width: w, height: h, channels: 3 } }).png().toBuffer());
  const { staged, plain, local } = await stageThroughQueue(input, 'toned', ['--tone', '1'], ['--tone', '3'], /--tone is a strength from 0 to 1/);
  assert.ok(staged.equals(local), 'the worker applies the tone stage as restore does');
  assert.ok(!staged.equals(plain), 'without --tone the photo stays faded');
  await withQueue((q) => q.obliterate({ force: true }));
});

test('queue add --repair: a worker fills scratches as studio restore --repair does, with the detector pinned; with and without repair are two jobs', async () => {
  const input = join(root, 'scratched');
  await mkdir(input);
  // A smooth print with a bright scratch across it (the stand-in detector flags pixels brighter than 0.9).
  const w = 64;
  const h = 48;
  const pixels = Buffer.alloc(w * h * 3);
  for (let p = 0; p < w * h; p++) {
    const x = p % w;
    const y = Math.floor(p / w);
    const scratch = Math.abs(y - Math.round(x * 0.6)) < 1;
    for (let c = 0; c < 3; c++) pixels[p * 3 + c] = scratch ? 250 : Math.round(255 * (0.3 + 0.2 * Math.sin(x * 0.1 + c)));
  }
  await writeFile(join(input, 'print.png'), await sharp(pixels, { raw: { width: w, height: h, channels: 3 } }).png().toBuffer());
  const bright = brightDetectorModel();
  const detectorDir = (await savePackage(join(root, 'detectors'), bright, { name: 'Bright damage', id: 'bright', task: 'detect', architecture: { id: 'external' } })).dir;
  bright.dispose();
  const flags = ['--repair', '0.5', '--repair-model', detectorDir];
  const { staged, plain, local } = await stageThroughQueue(input, 'repaired', flags, ['--repair', '2'], /--repair is a strength from 0 to 1/);
  assert.ok(staged.equals(local), 'the worker repairs as restore does');
  assert.ok(!staged.equals(plain), 'without --repair the scratch stays');
  await withQueue((q) => q.obliterate({ force: true }));

  // With a damage filler (an untrained fill-unet: it visibly changes the holes), pinned like the detector.
  const fillNet = ARCHITECTURES['fill-unet'].build({ filters: 4, depth: 1 });
  tf.tidy(() => {
    for (const w of fillNet.weights) w.write(tf.randomNormal(w.shape as number[], 0, 0.3, 'float32', 5));
  });
  const fillerDir = (await savePackage(join(root, 'fillers'), fillNet, { name: 'Random filler', id: 'random-filler', task: 'fill', architecture: { id: 'fill-unet', hyper: { filters: 4, depth: 1 } } })).dir;
  fillNet.dispose();
  const filled = await stageThroughQueue(input, 'filled', [...flags, '--fill-model', fillerDir], ['--repair', '2'], /--repair is a strength from 0 to 1/);
  assert.ok(filled.staged.equals(filled.local), 'the worker fills as restore --fill-model does');
  assert.ok(!filled.staged.equals(staged), 'the filler changed the holes the interpolation left');
  await withQueue((q) => q.obliterate({ force: true }));
});
