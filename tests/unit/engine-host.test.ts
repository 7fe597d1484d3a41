// The engine in its own process: a crash fails the request in flight with a clear error, the host stays up,
// and the next request starts a fresh engine.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { EngineHost, engineEnv, forkLauncher } from '../../src/main/services/engine-host';
import { StudioError } from '#shared/rpc/errors';
import type { EngineState } from '#shared/contract';
import { TEST_BACKEND } from '../helpers/native';

process.env.STUDIO_TEST = '1';
const host = new EngineHost(forkLauncher(() => ({ ...process.env, STUDIO_TEST: '1', STUDIO_BACKEND: TEST_BACKEND })));
after(() => host.dispose());

const states: EngineState['state'][] = [];
host.onState((s) => states.push(s.state));

test('the engine answers from its own process', async () => {
  const info = await host.call('engine.info', {});
  assert.equal(info.backend, 'cpu');
  assert.ok(info.backends.includes('cpu'));
  assert.notEqual(info.pid, process.pid);
  assert.equal(host.state.state, 'ready');
});

test('a request that crashes the engine fails clearly, and the next request works', async () => {
  const before = await host.call('engine.info', {});
  await assert.rejects(host.call('engine.crashForTest', {}), (error: unknown) => {
    assert.ok(error instanceof StudioError);
    assert.equal(error.code, 'ENGINE_CRASHED');
    assert.match(error.message, /stopped unexpectedly \(exit code 70\)/);
    assert.match(error.message, /restarts on the next/);
    return true;
  });
  assert.equal(host.state.state, 'crashed');
  const after = await host.call('engine.info', {});
  assert.notEqual(after.pid, before.pid, 'a fresh engine process');
  assert.equal(host.state.state, 'ready');
  assert.deepEqual(states.slice(-3), ['crashed', 'starting', 'ready']);
});

test('a slow engine request can be cancelled and the engine keeps serving', async () => {
  const controller = new AbortController();
  const pending = host.call('engine.sleepForTest', { ms: 10_000 }, { signal: controller.signal });
  setTimeout(() => controller.abort(), 50);
  await assert.rejects(pending, (e: unknown) => e instanceof StudioError && e.code === 'CANCELLED');
  const info = await host.call('engine.info', {});
  assert.equal(info.backend, 'cpu');
});

test('a killed engine (e.g. out of memory) fails the job in flight and restarts', async () => {
  const { pid } = await host.call('engine.info', {});
  const pending = host.call('engine.sleepForTest', { ms: 10_000 });
  setTimeout(() => process.kill(pid, 'SIGKILL'), 50);
  await assert.rejects(pending, (e: unknown) => e instanceof StudioError && e.code === 'ENGINE_CRASHED' && /SIGKILL/.test(e.message));
  const info = await host.call('engine.info', {});
  assert.notEqual(info.pid, pid);
});

test("the engine starts with the settings' backend and threads unless the environment names its own", () => {
  const saved = { ...process.env };
  try {
    delete process.env.STUDIO_BACKEND;
    delete process.env.STUDIO_THREADS;
    const env = engineEnv({ backend: 'wasm', threads: 2 });
    assert.equal(env.STUDIO_BACKEND, 'wasm');
    assert.equal(env.STUDIO_THREADS, '2');
    process.env.STUDIO_BACKEND = 'cpu';
    assert.equal(engineEnv({ backend: 'wasm', threads: 0 }).STUDIO_BACKEND, 'cpu', 'a flag or the environment wins');
  } finally {
    process.env = saved;
  }
});
