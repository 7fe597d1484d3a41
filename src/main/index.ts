// Electron main: the window, its security, the app:// and studio-image:// protocols, and the services over
// IPC. The engine runs in a utilityProcess so the window never waits on it.
import { app, BrowserWindow, dialog, net, protocol, session, utilityProcess, type WebContents } from 'electron';
import { mkdir } from 'node:fs/promises';
import { extname, join, normalize, relative, isAbsolute } from 'node:path';
import { pathToFileURL } from 'node:url';
import { studioContract } from '../shared/contract';
import { serveRpc } from '../shared/rpc/server';
import { dataDir, rendererDir, resourcesDir } from './paths';
import { contentSecurityPolicy } from './security/csp';
import { FolderAccess } from './security/folder-access';
import { createStudioServices } from './services';
import { EngineHost, engineEntry, engineEnv, launcherFromChild } from './services/engine-host';
import { JobRegistry } from './services/jobs';
import { SettingsStore } from './services/settings';
import { APP_ORIGIN, electronTransport } from './transport/electron-ipc';
import type { ChildLike } from './transport/process-channel';

const IMAGE_SCHEME = 'studio-image';

protocol.registerSchemesAsPrivileged([
  { scheme: 'app', privileges: { standard: true, secure: true, supportFetchAPI: true } },
  { scheme: IMAGE_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } },
]);

function utilityLauncherChild(env: NodeJS.ProcessEnv): ChildLike {
  const { entry } = engineEntry();
  const child = utilityProcess.fork(entry, [], { serviceName: 'Restoration Studio engine', env, stdio: 'inherit' });
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
      const path = new URL(request.url).searchParams.get('path') ?? '';
      const file = await folders.resolveFile(path);
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

async function main(): Promise<void> {
  if (!app.requestSingleInstanceLock()) {
    app.quit();
    return;
  }
  process.env.STUDIO_HOME ??= app.getPath('userData');
  await app.whenReady();
  const home = dataDir();
  await mkdir(home, { recursive: true });

  session.defaultSession.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  session.defaultSession.setPermissionCheckHandler(() => false);
  app.on('web-contents-created', (_event, contents) => lockDown(contents));

  const settings = SettingsStore.inDataDir(home);
  let preference = (await settings.get()).backend;
  settings.onChange((s) => (preference = s.backend));
  const engine = new EngineHost(launcherFromChild(() => utilityLauncherChild(engineEnv(() => preference))));
  const folders = new FolderAccess([home, resourcesDir()]);
  let window: BrowserWindow | null = null;
  const services = createStudioServices({
    mode: 'electron',
    engine,
    settings,
    folders,
    jobs: new JobRegistry(),
    pickFolder: async () => {
      const result = window
        ? await dialog.showOpenDialog(window, { properties: ['openDirectory'] })
        : await dialog.showOpenDialog({ properties: ['openDirectory'] });
      return result.canceled ? null : (result.filePaths[0] ?? null);
    },
  });

  serveAppProtocol();
  serveImageProtocol(folders);

  window = new BrowserWindow({
    width: 1280,
    height: 820,
    minWidth: 900,
    minHeight: 600,
    title: 'Restoration Studio',
    show: false,
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
  const contents = window.webContents;
  // One protocol connection per page load; a reload closes the old one (and its subscriptions).
  const attach = (): void => {
    const transport = electronTransport(contents);
    serveRpc(transport, studioContract, services.handlers, services.events);
    transport.onClose(() => {
      if (!contents.isDestroyed()) attach();
    });
  };
  attach();
  window.once('ready-to-show', () => window?.show());
  window.on('closed', () => (window = null));
  await window.loadURL(`${APP_ORIGIN}/index.html`);

  app.on('window-all-closed', () => {
    engine.dispose();
    app.quit();
  });
}

void main();
