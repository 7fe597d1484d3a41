// Transports over a process boundary: the engine side (inside the child) and the host side (in main).
// Works with child_process.fork (process.send / 'message') and Electron's utilityProcess
// (process.parentPort in the child; child.postMessage in the host). Never imports electron.
import type { ChildProcess } from 'node:child_process';
import type { Message, Transport } from '#shared/rpc/protocol';
import { transportListeners } from '#shared/rpc/transport-kit';

interface ParentPortLike {
  on(event: 'message', listener: (event: { data: unknown }) => void): void;
  postMessage(message: unknown): void;
}

/** Inside the engine process: talks to whichever parent started it. */
export function parentTransport(): Transport {
  const kit = transportListeners();
  const parentPort = (process as unknown as { parentPort?: ParentPortLike }).parentPort;
  if (parentPort) {
    parentPort.on('message', (event) => kit.deliver(event.data));
  } else if (process.send) {
    process.on('message', (m) => kit.deliver(m));
    process.on('disconnect', () => kit.markClosed());
  } else {
    throw new Error('The engine process has no parent channel (start it with fork or utilityProcess).');
  }
  return {
    send(message: Message) {
      if (parentPort) parentPort.postMessage(message);
      else if (process.connected) process.send!(message);
    },
    onMessage: kit.onMessage,
    onClose: kit.onClose,
    close() {
      if (process.connected) process.disconnect();
    },
  };
}

/** The parts of a child process the host needs, whatever started it. */
export interface ChildLike {
  pid?: number;
  postMessage(message: unknown): void;
  onMessage(listener: (message: unknown) => void): void;
  onExit(listener: (code: number | null, signal: string | null) => void): void;
  kill(): void;
}

export function forkedChild(child: ChildProcess): ChildLike {
  return {
    pid: child.pid,
    postMessage: (m) => {
      if (child.connected) child.send(m as object);
    },
    onMessage: (l) => child.on('message', l),
    onExit: (l) => child.once('exit', (code, signal) => l(code, signal)),
    kill: () => child.kill('SIGKILL'),
  };
}

/** The host side's transport to one child; it closes when the child exits. */
export function childTransport(child: ChildLike): Transport {
  const kit = transportListeners();
  child.onMessage((m) => kit.deliver(m));
  child.onExit(() => kit.markClosed());
  return {
    send(message) {
      if (!kit.isClosed) child.postMessage(message);
    },
    onMessage: kit.onMessage,
    onClose: kit.onClose,
    close() {
      if (!kit.isClosed) child.kill();
    },
  };
}
