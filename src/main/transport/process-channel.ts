// Transports over a process boundary: the engine side (inside the child) and the host side (in main).
// Works with child_process.fork (process.send / 'message') and Electron's utilityProcess
// (process.parentPort in the child; child.postMessage in the host). Never imports electron.
import type { ChildProcess } from 'node:child_process';
import type { Message, Transport } from '../../shared/rpc/protocol';

type Listener = (message: unknown) => void;

/** Inside the engine process: talks to whichever parent started it. */
export function parentTransport(): Transport {
  const messageListeners = new Set<Listener>();
  const closeListeners = new Set<() => void>();
  const parentPort = (process as unknown as { parentPort?: ParentPortLike }).parentPort;
  if (parentPort) {
    parentPort.on('message', (event) => {
      for (const l of messageListeners) l(event.data);
    });
  } else if (process.send) {
    process.on('message', (m) => {
      for (const l of messageListeners) l(m);
    });
    process.on('disconnect', () => {
      for (const l of closeListeners) l();
    });
  } else {
    throw new Error('The engine process has no parent channel (start it with fork or utilityProcess).');
  }
  return {
    send(message: Message) {
      if (parentPort) parentPort.postMessage(message);
      else if (process.connected) process.send!(message);
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
      if (process.connected) process.disconnect();
    },
  };
}

interface ParentPortLike {
  on(event: 'message', listener: (event: { data: unknown }) => void): void;
  postMessage(message: unknown): void;
}

/** The parts of a child process the host needs, whatever started it. */
export interface ChildLike {
  pid?: number;
  postMessage(message: unknown): void;
  onMessage(listener: Listener): void;
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
  const messageListeners = new Set<Listener>();
  const closeListeners = new Set<() => void>();
  let closed = false;
  child.onMessage((m) => {
    for (const l of messageListeners) l(m);
  });
  child.onExit(() => {
    if (closed) return;
    closed = true;
    for (const l of [...closeListeners]) l();
  });
  return {
    send(message) {
      if (!closed) child.postMessage(message);
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
      if (closed) return;
      child.kill();
    },
  };
}
