// The protocol over a WebSocket (browser mode), server side. One connection, one Transport.
import type { WebSocket } from 'ws';
import type { Message, Transport } from '../../shared/rpc/protocol';

/** Largest message accepted from a client; protocol messages are small (images travel over HTTP). */
export const MAX_MESSAGE_BYTES = 1024 * 1024;

export function webSocketTransport(socket: WebSocket): Transport {
  const messageListeners = new Set<(m: unknown) => void>();
  const closeListeners = new Set<() => void>();
  socket.on('message', (raw, isBinary) => {
    if (isBinary) return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw.toString());
    } catch {
      return; // not JSON: ignore
    }
    for (const l of messageListeners) l(parsed);
  });
  socket.once('close', () => {
    for (const l of [...closeListeners]) l();
  });
  return {
    send(message: Message) {
      if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(message));
    },
    onMessage(l) {
      messageListeners.add(l);
      return () => messageListeners.delete(l);
    },
    onClose(l) {
      closeListeners.add(l);
      return () => closeListeners.delete(l);
    },
    close() {
      socket.close();
    },
  };
}
