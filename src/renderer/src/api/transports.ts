// The renderer's two ways to reach the services: the preload bridge inside Electron, a WebSocket to the
// loopback server in browser mode. Both carry the same protocol messages.
import { BRIDGE_KEY, type StudioBridge } from '../../../shared/bridge';
import type { Message, Transport } from '../../../shared/rpc/protocol';

export function electronBridge(): StudioBridge | null {
  return ((window as unknown as Record<string, unknown>)[BRIDGE_KEY] as StudioBridge | undefined) ?? null;
}

export function bridgeTransport(bridge: StudioBridge): Transport {
  const closeListeners = new Set<() => void>();
  return {
    send: (message: Message) => bridge.send(message),
    onMessage: (listener) => bridge.onMessage(listener),
    onClose(listener) {
      closeListeners.add(listener);
      return () => closeListeners.delete(listener);
    },
    close() {
      for (const l of [...closeListeners]) l();
    },
  };
}

/** Browser mode: messages sent before the socket opens wait in a queue. */
export function webSocketTransport(url: string): Transport {
  const socket = new WebSocket(url);
  const queue: string[] = [];
  const messageListeners = new Set<(m: unknown) => void>();
  const closeListeners = new Set<() => void>();
  socket.addEventListener('open', () => {
    for (const data of queue.splice(0)) socket.send(data);
  });
  socket.addEventListener('message', (event) => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(String(event.data));
    } catch {
      return;
    }
    for (const l of messageListeners) l(parsed);
  });
  socket.addEventListener('close', () => {
    for (const l of [...closeListeners]) l();
  });
  return {
    send(message) {
      const data = JSON.stringify(message);
      if (socket.readyState === WebSocket.OPEN) socket.send(data);
      else if (socket.readyState === WebSocket.CONNECTING) queue.push(data);
    },
    onMessage(l) {
      messageListeners.add(l);
      return () => messageListeners.delete(l);
    },
    onClose(l) {
      closeListeners.add(l);
      return () => closeListeners.delete(l);
    },
    close: () => socket.close(),
  };
}
