// What the preload script exposes to the renderer: a message pipe for the protocol, and the path of a dropped file.
export const BRIDGE_KEY = 'studioBridge';
export const IPC_CHANNEL = 'studio:rpc';

export interface StudioBridge {
  send(message: unknown): void;
  /** Returns a function that removes the listener. */
  onMessage(listener: (message: unknown) => void): () => void;
  /**
   * The path of a File the user dropped (Electron's webUtils.getPathForFile; File.path is gone); '' for a File
   * not backed by a file on disk. Optional: older preloads lack it.
   */
  getPathForFile?(file: File): string;
}
