// What the preload script exposes to the renderer: a message pipe for the protocol, nothing else.
export const BRIDGE_KEY = 'studioBridge';
export const IPC_CHANNEL = 'studio:rpc';

export interface StudioBridge {
  send(message: unknown): void;
  /** Returns a function that removes the listener. */
  onMessage(listener: (message: unknown) => void): () => void;
}
