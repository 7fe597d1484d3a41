// A real redis-server on a free loopback port for the queue's tests and benchmark. With `persistent`, every
// write goes to an append-only file in its own folder (fsync always), so a stop and a restart on the same
// port keep the queue, as a production Redis with AOF would.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { createServer } from 'node:net';
import { connectRedis } from '../../src/main/queue/jobs';

export interface RedisServer {
  url: string;
  port: number;
  /** Stops the server (SIGTERM: it finishes writing its AOF) and waits for it to exit. */
  stop(): Promise<void>;
  /** Starts it again on the same port and data folder and waits until it answers. */
  start(): Promise<void>;
  /** For cleanup: SIGKILL if still running. */
  kill(): void;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

async function answers(url: string, timeoutMs: number, child: ChildProcess, log: () => string): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`redis-server exited with code ${child.exitCode}: ${log()}`);
    try {
      (await connectRedis(url)).disconnect();
      return;
    } catch (error) {
      if (Date.now() > until) throw new Error(`redis-server at ${url} did not answer within ${timeoutMs / 1000} s: ${(error as Error).message} ${log()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

export async function startRedis(options: { dir?: string } = {}): Promise<RedisServer> {
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', ''];
  if (options.dir) {
    await mkdir(options.dir, { recursive: true });
    args.push('--dir', options.dir, '--appendonly', 'yes', '--appendfsync', 'always');
  } else {
    args.push('--appendonly', 'no');
  }
  let child: ChildProcess | null = null;
  let log = '';
  const server: RedisServer = {
    url,
    port,
    async start() {
      log = '';
      const started = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
      started.stdout!.on('data', (chunk: Buffer) => (log = (log + chunk.toString()).slice(-2000)));
      started.stderr!.on('data', (chunk: Buffer) => (log = (log + chunk.toString()).slice(-2000)));
      child = started;
      await answers(url, 15_000, started, () => log);
    },
    async stop() {
      const running = child;
      if (!running || running.exitCode !== null || running.signalCode !== null) return;
      const exited = new Promise((resolve) => running.once('exit', resolve));
      running.kill('SIGTERM');
      await exited;
    },
    kill() {
      if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
  await server.start();
  return server;
}
