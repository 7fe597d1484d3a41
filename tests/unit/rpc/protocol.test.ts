// The protocol suite, run over an in-memory pair and over a real WebSocket on loopback.
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import { RpcClient } from '#shared/rpc/client';
import { createMemoryPair } from '#shared/rpc/memory';
import type { Transport } from '#shared/rpc/protocol';
import { serveRpc, type RpcConnection } from '#shared/rpc/server';
import { StudioError } from '#shared/rpc/errors';
import { webSocketTransport } from '../../../src/main/transport/websocket';
import { testContract, testServices, type Observed, type TestContract } from '../../helpers/rpc-fixture';

interface Harness {
  client: RpcClient<TestContract>;
  connection: () => RpcConnection;
  observed: Observed;
  close(): Promise<void>;
}

async function memoryHarness(): Promise<Harness> {
  const observed: Observed = { calls: 0, aborted: 0, cleanups: 0 };
  const [a, b] = createMemoryPair();
  const services = testServices(observed);
  const connection = serveRpc(b, testContract, services.handlers, services.events);
  const client = new RpcClient<TestContract>(a);
  return { client, connection: () => connection, observed, close: async () => client.close() };
}

async function webSocketHarness(): Promise<Harness> {
  const observed: Observed = { calls: 0, aborted: 0, cleanups: 0 };
  const services = testServices(observed);
  const http = createServer();
  const wss = new WebSocketServer({ server: http });
  let connection: RpcConnection | null = null;
  wss.on('connection', (socket) => {
    connection = serveRpc(webSocketTransport(socket), testContract, services.handlers, services.events);
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  const { port } = http.address() as AddressInfo;
  const socket = new WebSocket(`ws://127.0.0.1:${port}`);
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  const client = new RpcClient<TestContract>(webSocketTransport(socket));
  await waitFor(() => connection !== null);
  return {
    client,
    connection: () => connection!,
    observed,
    close: async () => {
      client.close();
      await waitFor(() => wss.clients.size === 0);
      wss.close();
      await new Promise<void>((r) => http.close(() => r()));
    },
  };
}

async function waitFor(condition: () => boolean, timeoutMs = 3000): Promise<void> {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > timeoutMs) throw new Error('timed out waiting for condition');
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function rejection(promise: Promise<unknown>): Promise<StudioError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof StudioError, `expected a StudioError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected the call to fail');
}

for (const [name, makeHarness] of [
  ['in-memory pair', memoryHarness],
  ['WebSocket', webSocketHarness],
] as const) {
  describe(`protocol over ${name}`, () => {
    const harnesses: Harness[] = [];
    const open = async (): Promise<Harness> => {
      const h = await makeHarness();
      harnesses.push(h);
      return h;
    };
    after(async () => {
      for (const h of harnesses) await h.close();
    });

    test('a call resolves with the handler output', async () => {
      const { client } = await open();
      assert.equal(await client.call('math.add', { a: 2, b: 40 }), 42);
    });

    test('bad input gets the BAD_INPUT envelope naming the field', async () => {
      const { client, observed } = await open();
      const error = await rejection(client.call('math.add', { a: 2, b: 'x' as unknown as number }));
      assert.equal(error.code, 'BAD_INPUT');
      assert.match(error.message, /\bb\b/);
      const issues = (error.details as { issues: { path: string }[] }).issues;
      assert.deepEqual(issues.map((i) => i.path), ['b']);
      assert.equal(observed.calls, 0, 'the handler must not run on invalid input');
      const extra = await rejection(client.call('math.add', { a: 1, b: 2, c: 3 } as never));
      assert.equal(extra.code, 'BAD_INPUT');
    });

    test('thrown errors cross as envelopes: domain codes kept, others INTERNAL', async () => {
      const { client } = await open();
      const domain = await rejection(client.call('fail.domain', {}));
      assert.equal(domain.code, 'NOT_FOUND');
      assert.equal(domain.message, 'No such photo: kitten.jpg');
      const plain = await rejection(client.call('fail.plain', {}));
      assert.equal(plain.code, 'INTERNAL');
      assert.equal(plain.message, 'boom');
      const badOutput = await rejection(client.call('bad.output', {}));
      assert.equal(badOutput.code, 'INTERNAL');
      const unknown = await rejection(client.call('no.such' as never, {} as never));
      assert.equal(unknown.code, 'UNKNOWN_METHOD');
    });

    test('cancellation before the call never reaches the handler', async () => {
      const { client, observed } = await open();
      const controller = new AbortController();
      controller.abort();
      const error = await rejection(client.call('slow.wait', { ms: 10 }, { signal: controller.signal }));
      assert.equal(error.code, 'CANCELLED');
      await new Promise((r) => setTimeout(r, 30));
      assert.equal(observed.calls, 0);
    });

    test('cancellation during a call aborts the handler signal and rejects at once', async () => {
      const { client, observed, connection } = await open();
      const controller = new AbortController();
      const pending = client.call('slow.wait', { ms: 5000 }, { signal: controller.signal });
      await waitFor(() => observed.calls === 1);
      const started = Date.now();
      controller.abort();
      const error = await rejection(pending);
      assert.equal(error.code, 'CANCELLED');
      assert.ok(Date.now() - started < 1000);
      await waitFor(() => observed.aborted === 1);
      await waitFor(() => connection().stats().calls === 0);
      assert.deepEqual(client.stats(), { calls: 0, subscriptions: 0 });
    });

    test('event streams deliver in order; unsubscribe stops them and cleans up', async () => {
      const { client, observed, connection } = await open();
      const seen: number[] = [];
      const stop = client.subscribe('ticks', { every: 5 }, (d) => seen.push(d.n));
      await waitFor(() => seen.length >= 4);
      stop();
      await waitFor(() => observed.cleanups === 1);
      const count = seen.length;
      await new Promise((r) => setTimeout(r, 40));
      assert.ok(seen.length <= count + 1, 'no events after unsubscribe (one may be in flight)');
      assert.deepEqual(seen.slice(0, 4), [0, 1, 2, 3]);
      assert.equal(connection().stats().subscriptions, 0);
      assert.equal(client.stats().subscriptions, 0);
    });

    test('a stream can end from the source, and bad params end it with BAD_INPUT', async () => {
      const { client } = await open();
      const values: number[] = [];
      const ended = await new Promise<StudioError | undefined>((resolve) => {
        client.subscribe('finite', { count: 3 }, { data: (v) => values.push(v), end: resolve });
      });
      assert.equal(ended, undefined);
      assert.deepEqual(values, [0, 1, 2]);
      const failed = await new Promise<StudioError | undefined>((resolve) => {
        client.subscribe('ticks', { every: -1 }, { data: () => {}, end: resolve });
      });
      assert.equal(failed?.code, 'BAD_INPUT');
      assert.match(failed!.message, /every/);
    });

    test('closing the connection fails pending calls and leaves no listeners behind', async () => {
      const { client, observed, connection, close } = await open();
      const pending = client.call('slow.wait', { ms: 5000 });
      const streamEnded = new Promise<StudioError | undefined>((resolve) => {
        client.subscribe('ticks', { every: 5 }, { data: () => {}, end: resolve });
      });
      await waitFor(() => observed.calls === 1 && connection().stats().subscriptions === 1);
      const failed = rejection(pending);
      await close();
      const error = await failed;
      assert.equal(error.code, 'TRANSPORT_CLOSED');
      assert.equal((await streamEnded)?.code, 'TRANSPORT_CLOSED');
      await waitFor(() => observed.aborted === 1 && observed.cleanups === 1);
      assert.deepEqual(connection().stats(), { calls: 0, subscriptions: 0 });
      assert.deepEqual(client.stats(), { calls: 0, subscriptions: 0 });
      const late = await rejection(client.call('math.add', { a: 1, b: 1 }));
      assert.equal(late.code, 'TRANSPORT_CLOSED');
    });
  });
}

test('the memory pair removes every listener when closed', async () => {
  const [a, b] = createMemoryPair();
  let received = 0;
  const transports: Transport[] = [a, b];
  const removers = transports.map((t) => t.onMessage(() => received++));
  const server = serveRpc(b, testContract, testServices({ calls: 0, aborted: 0, cleanups: 0 }).handlers);
  const client = new RpcClient<TestContract>(a);
  assert.equal(await client.call('math.add', { a: 1, b: 2 }), 3);
  client.close();
  assert.deepEqual(server.stats(), { calls: 0, subscriptions: 0 });
  a.send({ t: 'req', id: 99, method: 'math.add', input: { a: 1, b: 1 } });
  await new Promise((r) => setTimeout(r, 10));
  const before = received;
  for (const r of removers) r();
  assert.equal(before, 2, 'only the first request and its answer were delivered');
});

test('a long task runs as a stream: progress as data, the end as its result, unsubscribe aborts it', async () => {
  const { z } = await import('zod');
  const { defineContract } = await import('#shared/rpc/protocol');
  const { streamTask } = await import('#shared/rpc/server');
  const contract = defineContract({
    methods: {},
    events: { count: { params: z.object({ to: z.number(), failAt: z.number().optional() }), data: z.number() } },
  });
  let aborted = 0;
  const [a, b] = createMemoryPair();
  serveRpc(b, contract, {}, {
    count: streamTask<{ to: number; failAt?: number }, number>(async ({ to, failAt }, { signal, emit }) => {
      for (let i = 1; i <= to; i++) {
        if (signal.aborted) {
          aborted++;
          return;
        }
        if (i === failAt) throw new StudioError('IMAGE_UNREADABLE', `item ${i} is broken`);
        emit(i);
        await new Promise((r) => setTimeout(r, 2));
      }
    }),
  });
  const client = new RpcClient<typeof contract>(a);
  const run = (params: { to: number; failAt?: number }) =>
    new Promise<{ got: number[]; error?: StudioError }>((resolve) => {
      const got: number[] = [];
      client.subscribe('count', params, { data: (n) => got.push(n), end: (error) => resolve({ got, error }) });
    });
  assert.deepEqual(await run({ to: 3 }), { got: [1, 2, 3], error: undefined });
  const failed = await run({ to: 5, failAt: 3 });
  assert.deepEqual(failed.got, [1, 2]);
  assert.equal(failed.error?.code, 'IMAGE_UNREADABLE');
  const got: number[] = [];
  const stop = client.subscribe('count', { to: 1000 }, (n) => got.push(n));
  while (got.length < 3) await new Promise((r) => setTimeout(r, 2));
  stop();
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(aborted, 1, 'the task saw its signal abort');
  client.close();
});

test('a malformed request or subscription that carries an id is answered with an error, not left waiting', async () => {
  const observed: Observed = { calls: 0, aborted: 0, cleanups: 0 };
  const [client, server] = createMemoryPair();
  const services = testServices(observed);
  serveRpc(server, testContract, services.handlers, services.events);
  const received: unknown[] = [];
  client.onMessage((m) => received.push(m));
  client.send({ t: 'req', id: 1 } as never); // no method, no input
  client.send({ t: 'sub', id: 2, event: 42 } as never);
  client.send({ hello: 'not ours' } as never); // no id: nothing to answer
  client.send({ t: 'req', id: 3, method: 'math.add', input: { a: 1, b: 2 } });
  await waitFor(() => received.length >= 3);
  const byId = new Map(received.map((m) => [(m as { id: number }).id, m as Record<string, unknown>]));
  assert.equal(byId.get(1)?.t, 'res');
  assert.equal(byId.get(1)?.ok, false);
  assert.equal((byId.get(1)?.error as { code: string }).code, 'BAD_INPUT');
  assert.equal(byId.get(2)?.t, 'end');
  assert.equal((byId.get(2)?.error as { code: string }).code, 'BAD_INPUT');
  assert.deepEqual(byId.get(3), { t: 'res', id: 3, ok: true, data: 3 }, 'the connection still works');
  assert.equal(received.length, 3);
  client.close();
});
