// The listener bookkeeping every transport shares: message listeners, close listeners fired once, and the
// Transport methods that register them. A transport supplies only how to send and how to close.
import type { Transport } from './protocol';

export interface TransportListeners extends Pick<Transport, 'onMessage' | 'onClose'> {
  /** Hands an incoming message to every message listener. */
  deliver(message: unknown): void;
  /** Fires the close listeners, once. */
  markClosed(): void;
  readonly isClosed: boolean;
}

export function transportListeners(): TransportListeners {
  const messageListeners = new Set<(message: unknown) => void>();
  const closeListeners = new Set<() => void>();
  let closed = false;
  return {
    deliver(message) {
      for (const l of [...messageListeners]) l(message);
    },
    markClosed() {
      if (closed) return;
      closed = true;
      for (const l of [...closeListeners]) l();
    },
    get isClosed() {
      return closed;
    },
    onMessage(listener) {
      messageListeners.add(listener);
      return () => messageListeners.delete(listener);
    },
    onClose(listener) {
      closeListeners.add(listener);
      return () => closeListeners.delete(listener);
    },
  };
}
