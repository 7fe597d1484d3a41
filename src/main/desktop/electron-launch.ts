// Pure pieces of the desktop start-up, testable without the Electron binary: how `npm start` launches
// Electron and reads its exit, the navigation that starts a new page, the early open-file queue, and what
// a failed start-up does.

/** The Windows AppUserModelID: must equal electron-builder's appId so notifications show and the taskbar groups. */
export const APP_USER_MODEL_ID = 'app.restorationstudio.desktop';

/** The webContents event after which the old page is gone: a committed cross-document main-frame navigation. */
export const PAGE_COMMITTED_EVENT = 'did-navigate';

/** Whether a webContents navigation event means the page (and its protocol connection) was replaced. */
export function navigationReplacesPage(eventName: string): boolean {
  // did-start-navigation fires before will-navigate, where the app may still cancel it; did-navigate only
  // fires for a main-frame navigation that committed (not in-page ones, which are did-navigate-in-page).
  return eventName === PAGE_COMMITTED_EVENT;
}

/** Arguments and environment for `npm start`'s Electron process. */
export function electronLaunch(
  userArgs: readonly string[],
  env: NodeJS.ProcessEnv,
): { args: string[]; env: NodeJS.ProcessEnv } {
  const childEnv = { ...env };
  // Inherited from a parent Electron tool, it would make the binary a plain Node and the app never opens.
  delete childEnv.ELECTRON_RUN_AS_NODE;
  return { args: ['.', ...userArgs], env: childEnv };
}

/** Where the Electron binary is: ELECTRON_OVERRIDE_DIST_PATH (electron's own override) wins. */
export function electronBinaryPath(
  env: NodeJS.ProcessEnv,
  platform: NodeJS.Platform,
  installed: () => string | null,
  join: (...p: string[]) => string,
): string | null {
  const override = env.ELECTRON_OVERRIDE_DIST_PATH;
  if (override) {
    const exe = platform === 'darwin' ? 'Electron.app/Contents/MacOS/Electron' : platform === 'win32' ? 'electron.exe' : 'electron';
    return join(override, exe);
  }
  return installed();
}

/** How `npm start` reports Electron's end: a death by signal is a failure, with the remedy when it is the sandbox. */
export function electronExit(code: number | null, signal: NodeJS.Signals | null, stderrTail = ''): { exitCode: number; message?: string } {
  if (code !== null) return code === 0 ? { exitCode: 0 } : { exitCode: code, message: sandboxRemedy(stderrTail) };
  if (signal === 'SIGINT' || signal === 'SIGTERM') return { exitCode: 130 };
  return {
    exitCode: 1,
    message:
      `Electron was killed by ${signal ?? 'a signal'}.` +
      (sandboxRemedy(stderrTail) ?? ` ${SANDBOX_HINT}`),
  };
}

const SANDBOX_HINT =
  'On Ubuntu 24.04 and later AppArmor stops Electron\'s sandbox ("The SUID sandbox helper binary was found, but is not configured correctly"): ' +
  'run `sudo chown root node_modules/electron/dist/chrome-sandbox && sudo chmod 4755 node_modules/electron/dist/chrome-sandbox`, ' +
  'or allow unprivileged user namespaces with an AppArmor profile for the binary (see Electron issue 42510).';

function sandboxRemedy(stderrTail: string): string | undefined {
  return /SUID sandbox helper|chrome-sandbox|No usable sandbox/i.test(stderrTail) ? SANDBOX_HINT : undefined;
}

/** Paths from open-file events: queued until the app can open them, then handed over exactly once. */
export class OpenFileQueue {
  private queue: string[] = [];
  private handler: ((paths: string[]) => void) | null = null;

  push(path: string): void {
    if (this.handler) this.handler([path]);
    else this.queue.push(path);
  }

  /** From now on paths go straight to `handler`; returns (and empties) what was queued. */
  drain(handler: (paths: string[]) => void): string[] {
    this.handler = handler;
    return this.queue.splice(0);
  }

  get size(): number {
    return this.queue.length;
  }
}

export interface StartupFailureSinks {
  showError: (title: string, message: string) => void;
  log: (message: string, stack?: string) => void | Promise<void>;
  exit: (code: number) => void;
}

/** Runs main; a rejection is logged, shown in an error box, and the app exits 1 (releasing the single-instance lock). */
export async function guardStartup(main: () => Promise<void>, sinks: StartupFailureSinks): Promise<void> {
  try {
    await main();
  } catch (error) {
    const err = error instanceof Error ? error : new Error(String(error));
    try {
      await sinks.log(err.message, err.stack);
    } catch {
      // logging must not stop the error box
    }
    sinks.showError('Restoration Studio could not start', err.message);
    sinks.exit(1);
  }
}
