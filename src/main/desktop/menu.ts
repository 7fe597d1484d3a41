// The application menu as data. Only electron's types are imported, so the template is built and its
// items clicked in tests without the Electron binary; index.ts hands it to Menu.buildFromTemplate.
import type { MenuItemConstructorOptions } from 'electron';
import { basename } from 'node:path';

export interface MenuActions {
  openFolder(): void;
  openRecent(dir: string): void;
  clearRecent(): void;
  showAbout(): void;
  openLogs(): void;
  navigate(view: 'restore' | 'compare' | 'train' | 'models' | 'settings'): void;
}

export interface MenuOptions {
  platform: NodeJS.Platform;
  appName: string;
  recent: string[];
  actions: MenuActions;
}

export function buildMenuTemplate({ platform, appName, recent, actions }: MenuOptions): MenuItemConstructorOptions[] {
  const isMac = platform === 'darwin';
  const recentItems: MenuItemConstructorOptions[] = recent.length
    ? [
        ...recent.map((dir) => ({ label: basename(dir) || dir, sublabel: dir, toolTip: dir, click: () => actions.openRecent(dir) })),
        { type: 'separator' as const },
        { label: 'Clear Recent', click: () => actions.clearRecent() },
      ]
    : [{ label: 'No Recent Folders', enabled: false }];

  const about: MenuItemConstructorOptions = { label: `About ${appName}`, click: () => actions.showAbout() };
  const template: MenuItemConstructorOptions[] = [];
  if (isMac) {
    template.push({
      label: appName,
      submenu: [about, { type: 'separator' }, { role: 'services' }, { type: 'separator' }, { role: 'hide' }, { role: 'hideOthers' }, { role: 'unhide' }, { type: 'separator' }, { role: 'quit' }],
    });
  }
  template.push(
    {
      label: '&File',
      submenu: [
        { label: 'Open Folder…', accelerator: 'CmdOrCtrl+O', click: () => actions.openFolder() },
        { label: 'Open Recent', submenu: recentItems },
        { type: 'separator' },
        { label: 'Settings', accelerator: 'CmdOrCtrl+,', click: () => actions.navigate('settings') },
        { type: 'separator' },
        isMac ? { role: 'close' } : { role: 'quit' },
      ],
    },
    {
      label: '&Edit',
      submenu: [{ role: 'undo' }, { role: 'redo' }, { type: 'separator' }, { role: 'cut' }, { role: 'copy' }, { role: 'paste' }, { role: 'selectAll' }],
    },
    {
      label: '&View',
      submenu: [
        { label: 'Restore', accelerator: 'CmdOrCtrl+1', click: () => actions.navigate('restore') },
        { label: 'Compare', accelerator: 'CmdOrCtrl+2', click: () => actions.navigate('compare') },
        { label: 'Train', accelerator: 'CmdOrCtrl+3', click: () => actions.navigate('train') },
        { label: 'Models', accelerator: 'CmdOrCtrl+4', click: () => actions.navigate('models') },
        { type: 'separator' },
        { role: 'resetZoom' },
        { role: 'zoomIn' },
        { role: 'zoomOut' },
        { type: 'separator' },
        { role: 'togglefullscreen' },
        { role: 'toggleDevTools' },
      ],
    },
    {
      label: '&Help',
      role: 'help',
      submenu: [...(isMac ? [] : [about]), { label: 'Open Logs Folder', click: () => actions.openLogs() }],
    },
  );
  return template;
}
