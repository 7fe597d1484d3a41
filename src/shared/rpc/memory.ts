// An in-memory transport pair, for tests and for running services in-process (the CLI).
// Messages go through a JSON round trip and are delivered asynchronously, like a real pipe.
import type { Message, Transport } from './protocol';
import { transportListeners } from './transport-kit';

export function createMemoryPair(): [Transport, Transport] {
  const kits = [transportListeners(), transportListeners()] as const;
  const closeBoth = (): void => {
    for (const kit of kits) kit.markClosed();
  };
  const side = (self: 0 | 1): Transport => {
    const other = kits[self === 0 ? 1 : 0];
    return {
      send(message: Message) {
        if (other.isClosed) return;
        const copy = JSON.parse(JSON.stringify(message)) as unknown;
        queueMicrotask(() => {
          if (!other.isClosed) other.deliver(copy);
        });
      },
      onMessage: kits[self].onMessage,
      onClose: kits[self].onClose,
      close: closeBoth,
    };
  };
  return [side(0), side(1)];
}
