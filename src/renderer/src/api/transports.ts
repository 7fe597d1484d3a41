// The renderer's two ways to reach the services: the preload bridge inside Electron, a WebSocket to the
// loopback server in browser mode. Both carry the same protocol messages.
import { BRIDGE_KEY, type StudioBridge } from '#shared/bridge';
import type { Message, Transport } from '#shared/rpc/protocol';
import { transportListeners } from '#shared/rpc/transport-kit';

export function electronBridge(): StudioBridge | null {
  return ((window as unknown as Record<string, unknown>)[BRIDGE_KEY] as StudioBridge | undefined) ?? null;
}

export function bridgeTransport(bridge: StudioBridge): Transport {
  const kit = transportListeners();
  return {
    send: (message: Message) => bridge.send(message),
    onMessage: (listener) => bridge.onMessage(listener),
    onClose: kit.onClose,
    close: () => kit.markClosed(),
  };
}

/** Browser mode: messages sent before the socket opens wait in a queue. */
export function webSocketTransport(url: string): Transport {
  const socket = new WebSocket(url);
  const queue: string[] = [];
  const kit = transportListeners();
  socket.addEventListener('open', () => {
    for (const data of queue.splice(0)) socket.send(data);
  });
  socket.addEventListener('message', (event) => {
    try {
      kit.deliver(JSON.parse(String(event.data)));
    } catch {
      // not JSON: ignore
    }
  });
  socket.addEventListener('close', () => kit.markClosed());
  return {
    send(message) {
      const data = JSON.stringify(message);
      if (socket.readyState === WebSocket.OPEN) socket.send(data);
      else if (socket.readyState === WebSocket.CONNECTING) queue.push(data);
    },
    onMessage: kit.onMessage,
    onClose: kit.onClose,
    close: () => socket.close(),
  };
}
