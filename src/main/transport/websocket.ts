// The protocol over a WebSocket (browser mode), server side. One connection, one Transport.
import type { WebSocket } from 'ws';
import type { Message, Transport } from '#shared/rpc/protocol';
import { transportListeners } from '#shared/rpc/transport-kit';

/** Largest message accepted from a client; protocol messages are small (images travel over HTTP). */
export const MAX_MESSAGE_BYTES = 1024 * 1024;

export function webSocketTransport(socket: WebSocket): Transport {
  const kit = transportListeners();
  socket.on('message', (raw, isBinary) => {
    if (isBinary) return;
    try {
      kit.deliver(JSON.parse(raw.toString()));
    } catch {
      // not JSON: ignore
    }
  });
  // ws reports a protocol violation (a message over maxPayload, bad framing) as 'error' and then closes the
  // socket; without a listener that error would be thrown and take the whole process down.
  socket.on('error', () => socket.terminate());
  socket.once('close', () => kit.markClosed());
  return {
    send(message: Message) {
      if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(message));
    },
    onMessage: kit.onMessage,
    onClose: kit.onClose,
    close() {
      socket.close();
    },
  };
}
