// Which IPC senders may speak the protocol: only the main frame of our own window, showing our own app://
// page. Kept free of electron imports so it is testable without the Electron binary.

export const APP_ORIGIN = 'app://studio';

export interface SenderFrameLike {
  url: string;
}

export interface SenderEventLike<C> {
  sender: C;
  senderFrame: SenderFrameLike | null;
}

export function isTrustedSender<C extends { mainFrame: SenderFrameLike }>(event: SenderEventLike<C>, contents: C): boolean {
  const frame = event.senderFrame;
  if (!frame || event.sender !== contents || frame !== contents.mainFrame) return false;
  return frame.url === APP_ORIGIN || frame.url.startsWith(`${APP_ORIGIN}/`);
}
