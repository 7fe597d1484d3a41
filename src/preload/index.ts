// Preload (sandboxed, CommonJS): exposes only send/onMessage of the studio protocol, and the path of a dropped
// file (webUtils.getPathForFile), through contextBridge.
// No Node or Electron object reaches the page.
import { contextBridge, ipcRenderer, webUtils, type IpcRendererEvent } from 'electron';
import { BRIDGE_KEY, IPC_CHANNEL, type StudioBridge } from '#shared/bridge';

const bridge: StudioBridge = {
  send(message) {
    ipcRenderer.send(IPC_CHANNEL, message);
  },
  onMessage(listener) {
    const wrapped = (_event: IpcRendererEvent, message: unknown): void => listener(message);
    ipcRenderer.on(IPC_CHANNEL, wrapped);
    return () => {
      ipcRenderer.removeListener(IPC_CHANNEL, wrapped);
    };
  },
  getPathForFile(file) {
    return webUtils.getPathForFile(file);
  },
};

contextBridge.exposeInMainWorld(BRIDGE_KEY, bridge);
