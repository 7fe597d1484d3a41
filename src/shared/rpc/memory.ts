// An in-memory transport pair, for tests and for running services in-process (the CLI).
// Messages go through a JSON round trip and are delivered asynchronously, like a real pipe.
import type { Message, Transport } from './protocol';

export function createMemoryPair(): [Transport, Transport] {
  const listeners: [Set<(m: unknown) => void>, Set<(m: unknown) => void>] = [new Set(), new Set()];
  const closeListeners: [Set<() => void>, Set<() => void>] = [new Set(), new Set()];
  let closed = false;

  const closeBoth = (): void => {
    if (closed) return;
    closed = true;
    for (const side of closeListeners) for (const l of [...side]) l();
  };

  const side = (self: 0 | 1): Transport => {
    const other = self === 0 ? 1 : 0;
    return {
      send(message: Message) {
        if (closed) return;
        const copy = JSON.parse(JSON.stringify(message)) as unknown;
        queueMicrotask(() => {
          if (!closed) for (const l of [...listeners[other]]) l(copy);
        });
      },
      onMessage(listener) {
        listeners[self].add(listener);
        return () => listeners[self].delete(listener);
      },
      onClose(listener) {
        closeListeners[self].add(listener);
        return () => closeListeners[self].delete(listener);
      },
      close: closeBoth,
    };
  };
  return [side(0), side(1)];
}
