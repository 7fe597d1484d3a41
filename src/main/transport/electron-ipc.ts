// The protocol over Electron IPC, main side. One Transport per window's webContents; every message's sender
// frame is checked to be our own top frame loaded from app://, so no other page or iframe can speak.
import { ipcMain, type IpcMainEvent, type WebContents } from 'electron';
import { IPC_CHANNEL } from '#shared/bridge';
import type { Message, Transport } from '#shared/rpc/protocol';
import { isTrustedSender } from '../security/ipc-sender';
import { transportListeners } from '#shared/rpc/transport-kit';
import { PAGE_COMMITTED_EVENT } from '../desktop/electron-launch';

export { APP_ORIGIN } from '../security/ipc-sender';

export function electronTransport(contents: WebContents): Transport {
  const kit = transportListeners();
  const onIpc = (event: IpcMainEvent, message: unknown): void => {
    if (isTrustedSender(event, contents)) kit.deliver(message);
  };
  // A reload or navigation that committed replaced the page: its subscriptions must not outlive it.
  // (did-start-navigation would also fire for navigations will-navigate then cancels.)
  const onNavigate = (): void => close();
  const close = (): void => {
    if (kit.isClosed) return;
    ipcMain.removeListener(IPC_CHANNEL, onIpc);
    contents.removeListener(PAGE_COMMITTED_EVENT, onNavigate);
    contents.removeListener('destroyed', close);
    kit.markClosed();
  };
  ipcMain.on(IPC_CHANNEL, onIpc);
  contents.on(PAGE_COMMITTED_EVENT, onNavigate);
  contents.once('destroyed', close);
  return {
    send(message: Message) {
      if (!kit.isClosed && !contents.isDestroyed()) contents.send(IPC_CHANNEL, message);
    },
    onMessage: kit.onMessage,
    onClose: kit.onClose,
    close,
  };
}
