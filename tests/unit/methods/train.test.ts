// Training through the engine contract (train.run stream, train.stop, train.runInfo), in-process like the
// CLI: unsubscribing cancels within one batch and keeps no package; train.stop stops within one batch and
// saves the finished epochs' model; resume continues from the checkpoint's epoch; clear errors up front.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { EngineHost, inProcessLauncher } from '../../../src/main/services/engine-host';
import { readRunState } from '../../../src/main/engine/methods/index';
import { loadPackageDir } from '../../../src/main/engine/package/index';
import type { TrainDoneEvent, TrainEvent, TrainParamsInput } from '#shared/training';
import { StudioError } from '#shared/rpc/errors';
import { cleanFolder, tempDir } from './fixtures';
import { TEST_BACKEND } from '../../helpers/native';

const { dir: home, cleanup } = await tempDir('studio-train-job-');
process.env.STUDIO_HOME = home;
process.env.STUDIO_BACKEND = TEST_BACKEND;
const data = join(home, 'photos');
await mkdir(data, { recursive: true });
await cleanFolder(data, 6, 36, 5);

const engine = new EngineHost(await inProcessLauncher());
test.after(async () => {
  engine.dispose();
  await cleanup();
});

function params(extra: Partial<TrainParamsInput>): TrainParamsInput {
  return {
    data,
    synth: 'gaussian:25',
    arch: 'dncnn',
    hyper: { depth: 3, filters: 8 },
    epochs: 2,
    stepsPerEpoch: 3,
    batchSize: 4,
    patch: 16,
    lr: 0.01,
    validationFraction: 0.3,
    samples: 1,
    samplerThread: 'main',
    out: 'model',
    ...extra,
  };
}

interface Run {
  events: TrainEvent[];
  done: Promise<TrainDoneEvent>;
  unsubscribe: () => void;
}

function run(p: TrainParamsInput, onEvent?: (event: TrainEvent, run: Run) => void): Run {
  const events: TrainEvent[] = [];
  let resolve!: (d: TrainDoneEvent) => void;
  let reject!: (e: unknown) => void;
  const done = new Promise<TrainDoneEvent>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  const r: Run = { events, done, unsubscribe: () => {} };
  let last: TrainDoneEvent | null = null;
  r.unsubscribe = engine.subscribe('train.run', p, {
    data: (event) => {
      events.push(event);
      if (event.type === 'done') last = event;
      onEvent?.(event, r);
    },
    end: (error) => (error ? reject(error) : last ? resolve(last) : reject(new Error('ended without done'))),
  });
  return r;
}

async function waitFor<T>(probe: () => Promise<T | null | undefined> | T | null | undefined, what: string, ms = 30_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('unsubscribing from train.run cancels within one batch and saves no model', async () => {
  let batches = 0;
  const r = run(params({ out: 'cancelled', epochs: 3, stepsPerEpoch: 500 }), (event, self) => {
    if (event.type === 'batch' && ++batches === 2) self.unsubscribe();
  });
  r.done.catch(() => {}); // never settles: an unsubscribed stream gets no end
  const start = await waitFor(() => r.events.find((e) => e.type === 'start'), 'the start event');
  assert.equal(start.type, 'start');
  if (start.type !== 'start') return;
  assert.equal(start.resumedFrom, 0);
  assert.equal(start.backend, TEST_BACKEND);
  await waitFor(() => batches >= 2, 'two batches');
  const t0 = Date.now();
  const state = await waitFor(async () => {
    const s = await readRunState(start.workDir);
    return s && s.state !== 'running' ? s : null;
  }, 'the run to stop');
  assert.equal(state.state, 'cancelled');
  assert.ok(state.globalStep <= 3, `stopped at step ${state.globalStep}, more than one batch after the cancel`);
  assert.ok(Date.now() - t0 < 10_000);
  assert.equal(existsSync(start.output), false, 'no package for a cancelled run');
});

test('train.stop stops within one batch and saves the model; resume continues from the checkpoint epoch', async () => {
  const out = join(home, 'my-models', 'graceful');
  let batchesAfterStop = 0;
  let stopped = false;
  const first = run(params({ out, epochs: 3 }), (event) => {
    if (stopped && event.type === 'batch') batchesAfterStop += 1;
    if (event.type === 'epoch' && event.epoch === 1) {
      stopped = true;
      const start = first.events.find((e) => e.type === 'start');
      if (start?.type === 'start') void engine.call('train.stop', { runId: start.runId });
    }
  });
  const done = await first.done;
  assert.equal(done.status, 'cancelled');
  assert.equal(done.epochs, 1);
  assert.equal(done.model, out);
  assert.ok(batchesAfterStop <= 1, `${batchesAfterStop} batches ran after the stop`);
  const epochs = first.events.filter((e) => e.type === 'epoch');
  assert.equal(epochs.length, 1);
  const e1 = epochs[0]!;
  if (e1.type === 'epoch') {
    assert.ok(typeof e1.valPsnr === 'number' && e1.valPsnr > 0);
    assert.ok(e1.etaSeconds >= 0);
    assert.equal(e1.samples.length, 1);
    assert.ok(existsSync(e1.samples[0]!.restored));
  }
  const saved = await loadPackageDir(out);
  assert.equal(saved.card.training?.stopReason, 'cancelled');
  assert.equal(saved.card.training?.history.length, 1);
  saved.model.dispose();

  const info = await engine.call('train.runInfo', { out });
  assert.equal(info.checkpointEpoch, 1);
  assert.equal(info.run?.state, 'cancelled');
  assert.equal(info.output, out);

  // Without resume, the existing model is protected.
  await assert.rejects(
    run(params({ out, epochs: 3 })).done,
    (e: unknown) => e instanceof StudioError && e.code === 'OUTPUT_UNWRITABLE' && e.message.includes(out),
  );

  const second = run(params({ out, epochs: 3, resume: true }));
  const resumed = await second.done;
  const start = second.events.find((e) => e.type === 'start');
  assert.equal(start?.type === 'start' && start.resumedFrom, 1);
  assert.deepEqual(
    second.events.filter((e) => e.type === 'epoch').map((e) => (e.type === 'epoch' ? e.epoch : 0)),
    [2, 3],
  );
  const firstBatch = second.events.find((e) => e.type === 'batch');
  assert.equal(firstBatch?.type === 'batch' && firstBatch.globalStep, 4, 'the step count continues');
  assert.equal(resumed.status, 'completed');
  assert.equal(resumed.epochs, 3);
  const final = await loadPackageDir(out);
  try {
    assert.equal(final.card.training?.history.length, 3);
    assert.equal(final.card.training?.stopReason, 'completed');
    assert.equal(final.card.training?.backend, TEST_BACKEND);
    assert.match(final.card.training?.dataFingerprint ?? '', /^sha256:[0-9a-f]{32}$/);
    assert.equal((final.card.training?.recipe as { architecture?: string }).architecture, 'dncnn');
    assert.equal(final.card.restores.preset, 'gaussian:25');
  } finally {
    final.model.dispose();
  }
  assert.equal((await readRunState(resumed.workDir))?.state, 'completed');
});

test('fine-tuning starts from an installed model: its weights, its architecture, and clear refusals', async () => {
  const base = await run(params({ out: 'base', epochs: 1 })).done;
  assert.equal(base.status, 'completed');

  // No hyper-parameters given: the starting model's are kept. A tiny rate leaves its weights in place, so the
  // tuned model's weights equal the base's (a fresh build would differ everywhere).
  const tune = run(params({ out: 'tuned', initFrom: 'base', hyper: {}, epochs: 1, lr: 1e-9 }));
  const tuned = await tune.done;
  const start = tune.events.find((e) => e.type === 'start');
  assert.ok(start?.type === 'start');
  assert.equal(start.initFrom?.dir, base.model);
  assert.equal(start.hyper.depth, 3);
  assert.equal(start.hyper.filters, 8);
  const [a, b] = await Promise.all([loadPackageDir(base.model!), loadPackageDir(tuned.model!)]);
  try {
    const wa = a.model.getWeights();
    const wb = b.model.getWeights();
    assert.equal(wa.length, wb.length);
    let maxDiff = 0;
    for (let i = 0; i < wa.length; i++) {
      const x = wa[i]!.dataSync();
      const y = wb[i]!.dataSync();
      for (let j = 0; j < x.length; j++) maxDiff = Math.max(maxDiff, Math.abs(x[j]! - y[j]!));
    }
    assert.ok(maxDiff < 1e-6, `tuned weights moved by ${maxDiff}`);
    assert.match(b.card.restores.description, /starting from "base"/);
  } finally {
    a.model.dispose();
    b.model.dispose();
  }

  const refused = async (p: Partial<TrainParamsInput>, code: string, pattern: RegExp): Promise<void> => {
    await assert.rejects(run(params({ initFrom: 'base', epochs: 1, ...p })).done, (e: unknown) => {
      assert.ok(e instanceof StudioError, String(e));
      assert.equal(e.code, code, e.message);
      assert.match(e.message, pattern);
      return true;
    });
  };
  await refused({ out: 'f1', arch: 'unet', hyper: {} }, 'BAD_INPUT', /"base" .* is a dncnn model.*not a unet/);
  await refused({ out: 'f2', hyper: { filters: 16 } }, 'BAD_INPUT', /filters 16 \(the model has 8\)/);
  await refused({ out: 'f3', initFrom: 'no-such-model' }, 'MODEL_NOT_FOUND', /no-such-model/);
  assert.equal(existsSync(join(home, 'models', 'f1')), false);
});

test('bad training requests fail before any work with a clear code', async () => {
  const expectCode = async (p: TrainParamsInput, code: string, pattern: RegExp): Promise<void> => {
    await assert.rejects(run(p).done, (e: unknown) => {
      assert.ok(e instanceof StudioError, String(e));
      assert.equal(e.code, code, e.message);
      assert.match(e.message, pattern);
      return true;
    });
  };
  await expectCode(params({ synth: undefined, out: 'x1' }), 'BAD_INPUT', /clean images only/);
  await expectCode(params({ hyper: { depth: 3, nope: 1 }, out: 'x2' }), 'BAD_INPUT', /no hyper-parameter "nope"/);
  await expectCode(params({ data: join(home, 'nothing-here'), out: 'x3' }), 'NOT_FOUND', /does not exist/);
  await expectCode(params({ vgg16Weights: join(home, 'w.h5'), out: 'x4' }), 'BAD_INPUT', /vgg16-restorer/);
  await expectCode({ ...params({}), epochs: 0 }, 'BAD_INPUT', /epochs/);
  assert.equal(await engine.call('train.stop', { runId: 'no-such-run' }).then((r) => r.stopping), false);
});
