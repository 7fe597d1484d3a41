// A protocol client to a running browser-mode server, as a test's second pair of hands (e.g. to open a
// folder the way the in-app folder browser does).
import { WebSocket } from 'ws';
import { RpcClient } from '#shared/rpc/client';
import type { StudioContract } from '#shared/contract';
import { webSocketTransport } from '../../src/main/transport/websocket';
import type { BrowserServer } from '../../src/main/server/browser-server';

export async function connectClient(server: BrowserServer): Promise<RpcClient<StudioContract>> {
  const socket = new WebSocket(`ws://127.0.0.1:${server.port}/rpc?token=${server.token}`, {
    headers: { origin: `http://127.0.0.1:${server.port}` },
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  return new RpcClient<StudioContract>(webSocketTransport(socket));
}
