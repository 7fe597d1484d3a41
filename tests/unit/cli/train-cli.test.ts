// `studio train` and `studio evaluate` end to end: a tiny generated dataset, a real CLI process, JSON lines,
// the saved package, then Ctrl+C (graceful stop), a kill, and --resume continuing from the checkpoint.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import '@tensorflow/tfjs-backend-cpu';
import { loadPackageDir } from '../../../src/main/engine/package/index';
import { cleanFolder, tempDir } from '../methods/fixtures';
import { jsonLines, runCli, startCli } from './run-cli';
import { trainParamsFromArgs } from '../../../src/main/cli/commands/train';
import { useTestBackend } from '../../helpers/native';

await useTestBackend();
const { dir: home, cleanup } = await tempDir('studio-cli-train-');
test.after(cleanup);
const env = { STUDIO_HOME: home };
process.env.STUDIO_HOME = home; // trainParamsFromArgs reads the settings of this data folder
const data = join(home, 'photos');
await mkdir(data, { recursive: true });
await cleanFolder(data, 6, 36, 21);

// The end-to-end run uses the wasm backend (with the project's training kernels); the resume test uses the
// slower cpu backend so that its epochs last long enough to be interrupted at a known point.
const TINY = ['--arch', 'dncnn', '--depth', '3', '--filters', '8', '--batch-size', '4', '--patch', '16', '--lr', '0.01', '--val-fraction', '0.3', '--samples', '1'];

test('studio train --json trains, prints one line per epoch and a done line; the package loads; evaluate measures it', async () => {
  const out = join(home, 'out', 'denoiser');
  const r = await runCli(['train', '--data', data, '--synth', 'gaussian:25', ...TINY, '--backend', 'wasm', '--epochs', '2', '--steps-per-epoch', '6', '--out', out, '--name', 'Tiny denoiser', '--json'], env);
  assert.equal(r.status, 0, r.stderr);
  const lines = jsonLines(r.stdout);
  assert.equal(lines.length, 3, r.stdout);
  const [e1, e2, done] = lines as [Record<string, unknown>, Record<string, unknown>, Record<string, unknown>];
  for (const [i, e] of [e1, e2].entries()) {
    assert.equal(e.epoch, i + 1);
    for (const key of ['loss', 'valLoss', 'valPsnr', 'valSsim', 'lr', 'patchesPerSecond']) assert.equal(typeof e[key], 'number', `${key} in ${JSON.stringify(e)}`);
    assert.ok((e.valPsnr as number) > 5 && (e.valPsnr as number) < 100);
  }
  assert.equal(done.done, true);
  assert.equal(done.model, out);
  assert.equal(done.status, 'completed');
  assert.match(r.stderr, /epoch 2\/2: loss/);
  assert.match(r.stderr, /Model saved: /);

  const pkg = await loadPackageDir(out);
  try {
    assert.equal(pkg.card.name, 'Tiny denoiser');
    assert.equal(pkg.card.architecture.id, 'dncnn');
    assert.equal(pkg.card.training?.history.length, 2);
    assert.equal(pkg.card.training?.backend, 'wasm');
    assert.equal(pkg.card.training?.finalMetrics?.psnr, Math.max(e1.valPsnr as number, e2.valPsnr as number));
    assert.match(pkg.card.training?.dataFingerprint ?? '', /^sha256:/);
    assert.equal((pkg.card.training?.recipe as { epochs?: number }).epochs, 2);
  } finally {
    pkg.model.dispose();
  }

  const evaluated = await runCli(['evaluate', '--model', out, '--data', data, '--synth', 'gaussian:25', '--seed', '1', '--backend', 'wasm', '--json'], env);
  assert.equal(evaluated.status, 0, evaluated.stderr);
  const [summary] = jsonLines(evaluated.stdout) as [Record<string, unknown>];
  const images = summary.images as Record<string, unknown>[];
  assert.equal(images.length, 6);
  for (const i of images) for (const key of ['psnr', 'ssim', 'inputPsnr', 'inputSsim']) assert.ok(Number.isFinite(i[key] as number), key);
  const mean = images.reduce((a, i) => a + (i.inputPsnr as number), 0) / images.length;
  assert.ok(Math.abs(mean - (summary.inputPsnr as number)) < 1e-9);
  assert.ok((summary.inputPsnr as number) > 19.5 && (summary.inputPsnr as number) < 21.5, `input PSNR ${String(summary.inputPsnr)}`);
});

test('studio train --init-from fine-tunes a model folder, keeping its architecture without repeating it', async () => {
  const base = join(home, 'out', 'denoiser'); // written by the test above
  const out = join(home, 'out', 'tuned');
  const args = ['train', '--data', data, '--synth', 'gaussian:25', '--arch', 'dncnn', '--batch-size', '4', '--patch', '16', '--val-fraction', '0.3'];
  const r = await runCli([...args, '--init-from', base, '--lr', '0.0001', '--epochs', '1', '--steps-per-epoch', '3', '--out', out, '--backend', 'wasm', '--json'], env);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /Starting from the weights of "Tiny denoiser"/);
  const pkg = await loadPackageDir(out);
  try {
    assert.deepEqual([pkg.card.architecture.hyper.depth, pkg.card.architecture.hyper.filters], [3, 8]);
    assert.match(pkg.card.restores.description, /starting from "Tiny denoiser"/);
  } finally {
    pkg.model.dispose();
  }
  const refused = await runCli([...args, '--init-from', base, '--filters', '16', '--out', join(home, 'out', 'wider'), '--json'], env);
  assert.equal(refused.status, 2, refused.stderr); // BAD_INPUT: a usage error
  assert.match(refused.stderr, /filters 16 \(the model has 8\)/);
});

test('Ctrl+C stops gracefully (model saved), a kill keeps the checkpoint, and --resume continues from its epoch', async () => {
  const out = join(home, 'out', 'resumable');
  const args = ['train', '--data', data, '--synth', 'gaussian:15', ...TINY, '--backend', 'cpu', '--epochs', '4', '--steps-per-epoch', '6', '--out', out, '--json'];

  // 1. Ctrl+C after the first epoch: stops within a batch, saves the finished epochs' model, exit 130.
  const first = startCli(args, env);
  await first.line((l) => l.includes('"epoch":1'));
  first.child.kill('SIGINT');
  const r1 = await first.result;
  assert.equal(r1.status, 130, r1.stderr);
  const done1 = jsonLines(r1.stdout).at(-1)!;
  assert.equal(done1.done, true);
  assert.equal(done1.status, 'cancelled');
  assert.equal(done1.model, out);
  const stoppedAt = done1.epochs as number;
  assert.ok(stoppedAt >= 1 && stoppedAt < 4);
  assert.match(r1.stderr, /--resume/);

  // 2. --resume, then a hard kill right after its first epoch.
  const second = startCli([...args, '--resume'], env);
  const line = await second.line((l) => l.startsWith('{"epoch"'));
  second.child.kill('SIGKILL');
  const r2 = await second.result;
  assert.equal(r2.signal, 'SIGKILL');
  assert.equal(JSON.parse(line).epoch, stoppedAt + 1);
  assert.match(r2.stderr, new RegExp(`Resuming after epoch ${stoppedAt}\\b`));

  // 3. --resume after the crash continues from the last checkpoint to the end.
  const r3 = await runCli([...args, '--resume'], env);
  assert.equal(r3.status, 0, r3.stderr);
  const resumedFrom = Number(/Resuming after epoch (\d+)/.exec(r3.stderr)?.[1]);
  assert.ok(resumedFrom >= stoppedAt + 1, `resumed from ${resumedFrom}`);
  const lines3 = jsonLines(r3.stdout);
  assert.equal(lines3[0]!.epoch, resumedFrom + 1);
  assert.deepEqual(lines3.at(-1), { ...lines3.at(-1), done: true, status: 'completed', epochs: 4 });
  const pkg = await loadPackageDir(out);
  try {
    assert.deepEqual(pkg.card.training?.history.map((h) => h.epoch), [1, 2, 3, 4]);
  } finally {
    pkg.model.dispose();
  }
  assert.ok(existsSync(out));
});

test('flag parsing: hyper-parameters by the zoo\'s names, --hyper, and clear usage errors (exit code 2)', async () => {
  const { params, json, backend } = await trainParamsFromArgs([
    '--data', 'photos', '--synth', 'jpeg:30', '--arch', 'dncnn', '--depth', '5', '--kernel-size', '5', '--batch-norm', 'true',
    '--hyper', 'filters=16', '--epochs', '3', '--steps-per-epoch', '7', '--patience', '2', '--schedule', 'step', '--warmup', '10',
    '--out', 'named-model', '--json', '--backend', 'cpu',
  ]);
  assert.equal(json, true);
  assert.equal(backend, 'cpu');
  assert.deepEqual(params.hyper, { depth: 5, kernelSize: 5, batchNorm: true, filters: 16 });
  assert.equal(params.data, join(process.cwd(), 'photos'));
  assert.equal(params.out, 'named-model');
  assert.deepEqual([params.epochs, params.stepsPerEpoch, params.patience, params.schedule, params.warmup], [3, 7, 2, 'step', 10]);
  const usage = async (args: string[], pattern: RegExp): Promise<void> => {
    await assert.rejects(trainParamsFromArgs(args), (e: unknown) => {
      const message = (e as Error).message;
      assert.match(message, pattern);
      return true;
    });
  };
  await usage(['--data', 'd', '--out', 'x'], /--arch is required/);
  await usage(['--data', 'd', '--arch', 'dncnn', '--hyper', 'colour=1', '--out', 'x'], /no hyper-parameter "colour"/);
  await usage(['--data', 'd', '--arch', 'dncnn', '--width', '3', '--out', 'x'], /Unknown option '--width'/);
  await usage(['--arch', 'unet', '--out', 'x'], /--data is required/);
  await usage(['--data', 'd', '--arch', 'dncnn', '--epochs', 'many', '--out', 'x'], /--epochs needs a number/);
  await usage(['--data', 'd', '--arch', 'lstm', '--out', 'x'], /no architecture "lstm"/);

  const cli = await runCli(['train', '--data', data, '--arch', 'dncnn', '--depth', 'deep', '--out', 'x', '--json'], env);
  assert.equal(cli.status, 2);
  assert.equal((jsonLines(cli.stdout)[0]!.error as { code: string }).code, 'BAD_INPUT');
  assert.match(cli.stderr, /--depth needs a number/);
});
