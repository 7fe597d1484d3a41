// `studio info --json` prints one JSON line with the backend; bad flags are usage errors (exit 2).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { EXPECTED_BACKENDS, NATIVE } from '../helpers/native';

function studio(args: string[], env: NodeJS.ProcessEnv = {}): { status: number | null; stdout: string; stderr: string } {
  const base = { ...process.env };
  delete base.STUDIO_BACKEND;
  const result = spawnSync(process.execPath, ['--import', 'tsx', 'src/main/cli/index.ts', ...args], {
    encoding: 'utf8',
    env: { ...base, ...env },
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

test('studio info --json prints one line with the backend in use and those available', () => {
  const { status, stdout } = studio(['info', '--json']);
  assert.equal(status, 0);
  const lines = stdout.trim().split('\n');
  assert.equal(lines.length, 1);
  const info = JSON.parse(lines[0]!) as Record<string, unknown>;
  assert.equal(info.backend, EXPECTED_BACKENDS[0]);
  assert.deepEqual(info.backends, EXPECTED_BACKENDS);
  if (NATIVE) assert.match(String((info.tensorflow as { version?: string } | null)?.version), /^\d+\.\d+/);
  else assert.equal(info.tensorflow, null);
  assert.equal(typeof info.threads, 'number');
  assert.equal(info.gpu, null);
  assert.match(String(info.version), /^\d+\.\d+\.\d+/);
});

test('--backend picks a backend; one that cannot load is a clear error, not a fallback', () => {
  const cpu = studio(['info', '--json', '--backend', 'cpu']);
  assert.equal(JSON.parse(cpu.stdout).backend, 'cpu');
  const tf = studio(['info', '--json', '--backend', 'tensorflow']);
  if (NATIVE) {
    assert.equal(tf.status, 0);
    assert.equal(JSON.parse(tf.stdout).backend, 'tensorflow');
  } else {
    assert.equal(tf.status, 1);
    const error = JSON.parse(tf.stdout).error as { code: string; message: string };
    assert.equal(error.code, 'BACKEND_UNAVAILABLE');
    assert.match(error.message, /tensorflow backend cannot be used/);
  }
  const human = studio(['info']);
  assert.match(human.stdout, NATIVE ? /TensorFlow: \d+\.\d+.* on (CPU|\d+ GPU)/ : /npm run engine:native/);
  const env = studio(['info', '--json'], { STUDIO_BACKEND: 'cpu' });
  assert.equal(JSON.parse(env.stdout).backend, 'cpu');
});

test('unknown flags and commands are usage errors with exit code 2', () => {
  assert.equal(studio(['info', '--nope']).status, 2);
  assert.equal(studio(['info', '--backend', 'quantum']).status, 2);
  const unknown = studio(['frobnicate']);
  assert.equal(unknown.status, 2);
  assert.match(unknown.stderr, /unknown command "frobnicate"/);
});
