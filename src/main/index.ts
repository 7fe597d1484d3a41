// Electron main: the window, its security, the app:// and studio-image:// protocols, and the services over
// IPC. The engine runs in a utilityProcess so the window never waits on it.
import {
  app,
  BrowserWindow,
  dialog,
  Menu,
  net,
  Notification,
  protocol,
  screen,
  session,
  shell,
  utilityProcess,
  type WebContents,
} from 'electron';
import { mkdir } from 'node:fs/promises';
import { dirname, extname, join, normalize, relative, isAbsolute } from 'node:path';
import { stat } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import { studioContract } from '#shared/contract';
import { serveRpc } from '#shared/rpc/server';
import { dataDir, rendererDir, resourcesDir } from './paths';
import { contentSecurityPolicy } from './security/csp';
import { FolderAccess } from './security/folder-access';
import { createStudioServices } from './services';
import { EngineHost, engineEntry, engineEnv, launcherFromChild } from './services/engine-host';
import { JobRegistry } from './services/job-registry';
import { SettingsStore } from './services/settings';
import { APP_ORIGIN, electronTransport } from './transport/electron-ipc';
import type { ChildLike } from './transport/process-channel';
import { CommandBus } from './desktop/commands';
import { DesktopShell } from './desktop/shell';
import { RecentFolders } from './desktop/recent';
import { pathsFromArgv } from './desktop/launch-args';
import { WindowStateStore, type WindowState } from './desktop/window-state';
import { jobEndNotification, taskbarProgress } from './desktop/job-feedback';
import { DailyLog } from './services/logger';
import { thumbnail } from './services/thumbnails';
import { APP_NAME } from './paths';
import { APP_USER_MODEL_ID, guardStartup, OpenFileQueue } from './desktop/electron-launch';

const IMAGE_SCHEME = 'studio-image';

protocol.registerSchemesAsPrivileged([
  { scheme: 'app', privileges: { standard: true, secure: true, supportFetchAPI: true } },
  { scheme: IMAGE_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } },
]);

function utilityLauncherChild(env: NodeJS.ProcessEnv): ChildLike {
  const { entry } = engineEntry();
  const child = utilityProcess.fork(entry, [], { serviceName: 'Restoration Studio engine', env, stdio: 'inherit' });
  // A fatal error in the engine process (e.g. its entry cannot load) is reported, not swallowed.
  child.on('error', (type, location) => console.error(`engine process error: ${type} at ${location}`));
  return {
    get pid() {
      return child.pid;
    },
    postMessage: (m) => child.postMessage(m),
    onMessage: (l) => child.on('message', l),
    onExit: (l) => child.once('exit', (code) => l(code, null)),
    kill: () => {
      child.kill();
    },
  };
}

const CSP = contentSecurityPolicy({ img: [`${IMAGE_SCHEME}:`] });

function serveAppProtocol(): void {
  const root = rendererDir();
  protocol.handle('app', async (request) => {
    const url = new URL(request.url);
    const path = url.pathname === '/' ? 'index.html' : decodeURIComponent(url.pathname).replace(/^\/+/, '');
    const file = normalize(join(root, path));
    const rel = relative(root, file);
    if (url.host !== 'studio' || rel.startsWith('..') || isAbsolute(rel)) return new Response('Forbidden', { status: 403 });
    const response = await net.fetch(pathToFileURL(file).toString());
    const headers = new Headers(response.headers);
    headers.set('Content-Security-Policy', CSP);
    if (extname(file) === '.js') headers.set('Content-Type', 'text/javascript');
    return new Response(response.body, { status: response.status, headers });
  });
}

function serveImageProtocol(folders: FolderAccess): void {
  protocol.handle(IMAGE_SCHEME, async (request) => {
    try {
      const url = new URL(request.url);
      const file = await folders.resolveFile(url.searchParams.get('path') ?? '');
      const width = Number(url.searchParams.get('thumb') ?? 0);
      if (width > 0) return new Response(new Uint8Array(await thumbnail(file, width)), { headers: { 'Content-Type': 'image/jpeg' } });
      return await net.fetch(pathToFileURL(file).toString());
    } catch (error) {
      return new Response((error as Error).message, { status: 403 });
    }
  });
}

function lockDown(contents: WebContents): void {
  contents.on('will-navigate', (event, url) => {
    if (!url.startsWith(`${APP_ORIGIN}/`)) event.preventDefault();
  });
  contents.on('will-redirect', (event, url) => {
    if (!url.startsWith(`${APP_ORIGIN}/`)) event.preventDefault();
  });
  contents.setWindowOpenHandler(() => ({ action: 'deny' }));
  contents.on('will-attach-webview', (event) => event.preventDefault());
}

/** Paths the app was asked to open before it was ready (macOS open-file, file associations). */
const openFiles = new OpenFileQueue();
app.on('open-file', (event, path) => {
  event.preventDefault();
  openFiles.push(path);
});
// Windows: notifications and taskbar grouping with the installer's shortcut need the appId.
if (process.platform === 'win32') app.setAppUserModelId(APP_USER_MODEL_ID);

async function main(): Promise<void> {
  if (!app.requestSingleInstanceLock()) {
    app.quit();
    return;
  }
  process.env.STUDIO_HOME ??= app.getPath('userData');
  await app.whenReady();
  const home = dataDir();
  await mkdir(home, { recursive: true });
  const log = DailyLog.inDataDir(home);
  startupLog = log;
  void log.info('app.started', { version: app.getVersion(), platform: process.platform });
  process.on('uncaughtException', (error) => void log.error('app.uncaught', { message: error.message, stack: error.stack }));

  session.defaultSession.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  session.defaultSession.setPermissionCheckHandler(() => false);
  app.on('web-contents-created', (_event, contents) => lockDown(contents));

  const settings = SettingsStore.inDataDir(home);
  let current = await settings.get();
  settings.onChange((s) => (current = s));
  const engine = new EngineHost(launcherFromChild(() => utilityLauncherChild(engineEnv(current))));
  engine.onState((state) => {
    if (state.state === 'crashed') void log.error('engine.crashed', { message: state.message });
  });
  const folders = new FolderAccess([home, resourcesDir()]);
  const jobs = new JobRegistry();
  const commands = new CommandBus();
  const recent = RecentFolders.inDataDir(home);
  let window: BrowserWindow | null = null;

  const desktop = new DesktopShell({
    platform: process.platform,
    appName: APP_NAME,
    commands,
    recent,
    native: {
      focusWindow: () => {
        if (!window) return;
        if (window.isMinimized()) window.restore();
        window.show();
        window.focus();
      },
      showAbout: () => void showAbout(),
      openLogs: () => void shell.openPath(log.dir),
      menuChanged: (template) => Menu.setApplicationMenu(Menu.buildFromTemplate(template)),
      // Files opened with the app (file associations, dock drop, command line): their folder is allowed.
      allowPath: async (path) => {
        try {
          await folders.allow((await stat(path)).isDirectory() ? path : dirname(path));
          return true;
        } catch {
          void log.error('app.open-path', { path, message: 'cannot be opened' });
          return false;
        }
      },
    },
  });

  async function showAbout(): Promise<void> {
    let engineLine = 'Engine: not started';
    try {
      const info = await engine.call('engine.info', {});
      engineLine = `Engine: ${info.backend} (${info.threads} thread${info.threads === 1 ? '' : 's'})${info.gpu ? `, GPU ${info.gpu}` : ''}\nAvailable: ${info.backends.join(', ')}`;
    } catch (error) {
      engineLine = `Engine: unavailable (${(error as Error).message})`;
    }
    const options = {
      type: 'info' as const,
      title: `About ${APP_NAME}`,
      message: `${APP_NAME} ${app.getVersion()}`,
      detail: `${engineLine}\nElectron ${process.versions.electron}, Node ${process.versions.node}\nData: ${home}`,
    };
    if (window) await dialog.showMessageBox(window, options);
    else await dialog.showMessageBox(options);
  }

  const services = createStudioServices({
    mode: 'electron',
    engine,
    settings,
    folders,
    jobs,
    commands,
    recent,
    log,
    revealFolder: async (dir) => {
      const failure = await shell.openPath(dir);
      if (failure) throw new Error(`The file manager could not open ${dir}: ${failure}`);
    },
    pickFolder: async () => {
      const result = window
        ? await dialog.showOpenDialog(window, { properties: ['openDirectory'] })
        : await dialog.showOpenDialog({ properties: ['openDirectory'] });
      return result.canceled ? null : (result.filePaths[0] ?? null);
    },
  });

  app.on('second-instance', (_event, argv, cwd) => void desktop.secondInstance(argv, cwd));

  // Taskbar / dock progress while jobs run, a notification when one ends.
  jobs.onUpdate((job) => {
    window?.setProgressBar(taskbarProgress(jobs.list()));
    const note = jobEndNotification(job);
    if (note && job.endedAt && Notification.isSupported() && !window?.isFocused()) new Notification(note).show();
  });

  serveAppProtocol();
  serveImageProtocol(folders);
  await desktop.refreshMenu();

  const windowState = WindowStateStore.inDataDir(home);
  const saved = await windowState.load(screen.getAllDisplays().map((d) => d.workArea));
  window = new BrowserWindow({
    ...(saved.x !== undefined && saved.y !== undefined ? { x: saved.x, y: saved.y } : {}),
    width: saved.width,
    height: saved.height,
    minWidth: 900,
    minHeight: 600,
    title: APP_NAME,
    show: false,
    icon: join(resourcesDir(), 'icon.png'),
    webPreferences: {
      preload: join(import.meta.dirname, '../preload/index.cjs'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      spellcheck: false,
    },
  });
  const win = window;
  const rememberWindow = (): void => {
    if (win.isDestroyed()) return;
    const bounds = win.getNormalBounds();
    const state: WindowState = { ...bounds, maximized: win.isMaximized(), fullScreen: win.isFullScreen() };
    void windowState.save(state).catch(() => {});
  };
  win.on('close', rememberWindow);
  const contents = win.webContents;
  // One protocol connection per page load; a reload closes the old one (and its subscriptions).
  const attach = (): void => {
    const transport = electronTransport(contents);
    serveRpc(transport, studioContract, services.handlers, services.events);
    transport.onClose(() => {
      if (!contents.isDestroyed()) attach();
    });
  };
  attach();
  win.once('ready-to-show', () => {
    if (saved.maximized) win.maximize();
    if (saved.fullScreen) win.setFullScreen(true);
    win.show();
  });
  win.on('closed', () => (window = null));
  await win.loadURL(`${APP_ORIGIN}/index.html`);
  const early = openFiles.drain((paths) => void desktop.openPaths(paths));
  await desktop.openPaths([...early, ...pathsFromArgv(process.argv, process.cwd())]);

  app.on('window-all-closed', () => {
    engine.dispose();
    void log.info('app.quit');
    app.quit();
  });
}

let startupLog: DailyLog | null = null;
void guardStartup(main, {
  log: (message, stack) => (startupLog ?? DailyLog.inDataDir(dataDir())).error('app.start-failed', { message, stack }),
  showError: (title, message) => dialog.showErrorBox(title, message),
  exit: (code) => app.exit(code),
});
