// The desktop shell's behaviour, free of electron imports: what the menu does, what a second launch or a
// file dropped on the dock does. index.ts supplies the few native pieces (focus, dialogs, shell.openPath).
import type { MenuItemConstructorOptions } from 'electron';
import { buildMenuTemplate } from './menu';
import { pathsFromArgv } from './launch-args';
import type { CommandBus } from './commands';
import type { RecentFolders } from './recent';

export interface NativeHooks {
  focusWindow(): void;
  showAbout(): void;
  openLogs(): void;
  /** Called when the menu must be rebuilt (recent folders changed). */
  menuChanged(template: MenuItemConstructorOptions[]): void;
  /** Grants the UI access to a path it is asked to open; false when the path cannot be opened. */
  allowPath(path: string): Promise<boolean>;
}

export class DesktopShell {
  constructor(
    private readonly deps: {
      platform: NodeJS.Platform;
      appName: string;
      commands: CommandBus;
      recent: RecentFolders;
      native: NativeHooks;
    },
  ) {
    // File › Open Recent follows the list.
    deps.recent.onChange(() => void this.refreshMenu());
  }

  async menuTemplate(): Promise<MenuItemConstructorOptions[]> {
    const { commands, recent, native } = this.deps;
    return buildMenuTemplate({
      platform: this.deps.platform,
      appName: this.deps.appName,
      recent: await recent.list(),
      actions: {
        openFolder: () => commands.send({ command: 'open-folder' }),
        openRecent: (dir) => commands.send({ command: 'open-paths', paths: [dir] }),
        clearRecent: () => void recent.clear(),
        showAbout: () => native.showAbout(),
        openLogs: () => native.openLogs(),
        navigate: (view) => commands.send({ command: 'navigate', view }),
      },
    });
  }

  async refreshMenu(): Promise<void> {
    this.deps.native.menuChanged(await this.menuTemplate());
  }

  /** A second launch: focus the running window and open what it was given. */
  async secondInstance(argv: readonly string[], cwd: string): Promise<void> {
    this.deps.native.focusWindow();
    await this.openPaths(pathsFromArgv(argv, cwd));
  }

  /** Files or folders from the command line, file associations, or a drop on the dock icon. */
  async openPaths(paths: string[]): Promise<void> {
    const allowed: string[] = [];
    for (const path of paths) if (await this.deps.native.allowPath(path)) allowed.push(path);
    if (allowed.length > 0) this.deps.commands.send({ command: 'open-paths', paths: allowed });
  }
}
