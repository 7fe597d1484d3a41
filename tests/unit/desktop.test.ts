// The desktop shell behind the main process' transport, without the Electron binary: menu items and a
// second launch become `app.command` events the UI receives over the protocol.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { MenuItemConstructorOptions } from 'electron';
import { CommandBus } from '../../src/main/desktop/commands';
import { DesktopShell } from '../../src/main/desktop/shell';
import { RecentFolders } from '../../src/main/desktop/recent';
import { pathsFromArgv } from '../../src/main/desktop/launch-args';
import { fitToDisplays, WindowStateStore, DEFAULT_WINDOW } from '../../src/main/desktop/window-state';
import { jobEndNotification, taskbarProgress } from '../../src/main/desktop/job-feedback';
import { DailyLog } from '../../src/main/services/logger';
import { createStudioServices } from '../../src/main/services';
import { EngineHost, inProcessLauncher } from '../../src/main/services/engine-host';
import { FolderAccess } from '../../src/main/security/folder-access';
import { JobRegistry } from '../../src/main/services/job-registry';
import { SettingsStore } from '../../src/main/services/settings';
import { createMemoryPair } from '#shared/rpc/memory';
import { serveRpc } from '#shared/rpc/server';
import { RpcClient } from '#shared/rpc/client';
import { studioContract, type AppCommand, type Job, type StudioContract } from '#shared/contract';
import { tempDir } from '../helpers/fixtures';

type Item = MenuItemConstructorOptions;

function find(template: Item[], path: string[]): Item {
  let items = template;
  let found: Item | undefined;
  for (const label of path) {
    found = items.find((i) => i.label === label || i.role === label);
    assert.ok(found, `menu item ${path.join(' › ')} exists`);
    items = (found.submenu as Item[] | undefined) ?? [];
  }
  return found!;
}

function click(item: Item): void {
  (item.click as unknown as () => void)();
}

async function setup() {
  const { dir, cleanup } = await tempDir();
  const commands = new CommandBus();
  const recent = RecentFolders.inDataDir(dir);
  const native = { focused: 0, about: 0, logs: 0, menus: [] as Item[][] };
  const shell = new DesktopShell({
    platform: 'linux',
    appName: 'Restoration Studio',
    commands,
    recent,
    native: {
      focusWindow: () => native.focused++,
      showAbout: () => native.about++,
      openLogs: () => native.logs++,
      menuChanged: (t) => native.menus.push(t),
      allowPath: async () => true,
    },
  });
  const engine = new EngineHost(await inProcessLauncher());
  const folders = new FolderAccess();
  const jobs = new JobRegistry();
  const log = DailyLog.inDataDir(dir);
  const services = createStudioServices({
    mode: 'electron',
    engine,
    settings: SettingsStore.inDataDir(dir),
    folders,
    jobs,
    commands,
    recent,
    log,
  });
  const [a, b] = createMemoryPair();
  serveRpc(b, studioContract, services.handlers, services.events);
  const client = new RpcClient<StudioContract>(a);
  const received: AppCommand[] = [];
  client.subscribe('app.command', {}, (c) => received.push(c));
  await new Promise((r) => setTimeout(r, 10));
  return { dir, cleanup, shell, native, client, received, jobs, log, engine };
}

const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 20));

test('menu items reach the UI as commands over the protocol', async () => {
  const s = await setup();
  try {
    const template = await s.shell.menuTemplate();
    assert.deepEqual(template.map((m) => m.label), ['&File', '&Edit', '&View', '&Help']);
    const open = find(template, ['&File', 'Open Folder…']);
    assert.equal(open.accelerator, 'CmdOrCtrl+O');
    click(open);
    click(find(template, ['&View', 'Models']));
    assert.ok(find(template, ['&View', 'togglefullscreen']));
    assert.ok(find(template, ['&View', 'zoomIn']));
    click(find(template, ['&Help', 'About Restoration Studio']));
    click(find(template, ['&Help', 'Open Logs Folder']));
    await settle();
    assert.deepEqual(s.received, [{ command: 'open-folder' }, { command: 'navigate', view: 'models' }]);
    assert.equal(s.native.about, 1);
    assert.equal(s.native.logs, 1);
    assert.equal(find(template, ['&File', 'Open Recent', 'No Recent Folders']).enabled, false);
  } finally {
    s.engine.dispose();
    await s.cleanup();
  }
});

test('folders opened through the protocol appear under Open Recent, newest first, and can be cleared', async () => {
  const s = await setup();
  try {
    for (const name of ['one', 'two', 'one']) {
      await mkdir(join(s.dir, name), { recursive: true });
      await s.client.call('folders.open', { dir: join(s.dir, name) });
    }
    const template = await s.shell.menuTemplate();
    const recent = find(template, ['&File', 'Open Recent']).submenu as Item[];
    assert.deepEqual(recent.filter((i) => i.sublabel).map((i) => i.sublabel), [join(s.dir, 'one'), join(s.dir, 'two')]);
    click(recent[0]!);
    await settle();
    assert.deepEqual(s.received.at(-1), { command: 'open-paths', paths: [join(s.dir, 'one')] });
    click(find(template, ['&File', 'Open Recent', 'Clear Recent']));
    await settle();
    assert.equal(s.native.menus.length, 4, 'the menu was rebuilt after each change (3 opens, 1 clear)');
    assert.equal(find(s.native.menus.at(-1)!, ['&File', 'Open Recent', 'No Recent Folders']).enabled, false);
  } finally {
    s.engine.dispose();
    await s.cleanup();
  }
});

test('a second launch focuses the window and opens its existing path arguments', async () => {
  const s = await setup();
  try {
    await mkdir(join(s.dir, 'scans'));
    await s.shell.secondInstance(['/opt/studio/restoration-studio', '--no-sandbox', 'scans', join(s.dir, 'missing.jpg')], s.dir);
    await settle();
    assert.equal(s.native.focused, 1);
    assert.deepEqual(s.received, [{ command: 'open-paths', paths: [join(s.dir, 'scans')] }]);
    await s.shell.secondInstance(['/opt/studio/restoration-studio'], s.dir);
    await settle();
    assert.equal(s.native.focused, 2);
    assert.equal(s.received.length, 1, 'nothing to open, only focus');
  } finally {
    s.engine.dispose();
    await s.cleanup();
  }
});

test('commands sent before the UI listens are delivered when it does', async () => {
  const bus = new CommandBus();
  bus.send({ command: 'open-paths', paths: ['/photos'] });
  const got: AppCommand[] = [];
  bus.listen((c) => got.push(c));
  assert.deepEqual(got, [{ command: 'open-paths', paths: ['/photos'] }]);
});

test('launch arguments: flags, the app folder and missing paths are not opened', async () => {
  // Real files in a temporary folder: a relative folder name and an absolute photo path are opened.
  const { dir, cleanup } = await tempDir();
  try {
    await mkdir(join(dir, 'photos'));
    await writeFile(join(dir, 'a.jpg'), 'x');
    const argv = ['electron', '.', '--inspect', 'photos', join(dir, 'a.jpg'), 'nope'];
    assert.deepEqual(pathsFromArgv(argv, dir), [join(dir, 'photos'), join(dir, 'a.jpg')]);
  } finally {
    await cleanup();
  }
});

test('window state is remembered and never restored off-screen', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const store = WindowStateStore.inDataDir(dir);
    const screen = [{ x: 0, y: 0, width: 1920, height: 1080 }];
    assert.deepEqual(await store.load(screen), DEFAULT_WINDOW);
    await store.save({ x: 100, y: 80, width: 1000, height: 700, maximized: true, fullScreen: false });
    assert.deepEqual(await store.load(screen), { x: 100, y: 80, width: 1000, height: 700, maximized: true, fullScreen: false });
    const unplugged = await store.load([{ x: 0, y: 0, width: 800, height: 600 }].map((a) => ({ ...a, x: 5000 })));
    assert.equal(unplugged.x, undefined);
    assert.equal(unplugged.width, 1000);
    assert.deepEqual(fitToDisplays({ x: -2000, y: 0, width: 800, height: 600, maximized: false, fullScreen: false }, [{ x: -1920, y: 0, width: 1920, height: 1080 }]).x, -2000);
  } finally {
    await cleanup();
  }
});

const job = (state: Job['state'], progress: number | null, extra: Partial<Job> = {}): Job => ({
  id: state + String(progress),
  kind: 'restore',
  title: 'Restore “scans”',
  state,
  progress,
  message: '',
  error: null,
  startedAt: new Date().toISOString(),
  endedAt: null,
  ...extra,
});

test('taskbar progress and end-of-job notifications', () => {
  assert.equal(taskbarProgress([]), -1);
  assert.equal(taskbarProgress([job('done', 1)]), -1);
  assert.equal(taskbarProgress([job('running', 0.2), job('running', 0.6), job('done', 1)]), 0.4);
  assert.equal(taskbarProgress([job('running', null)]), 2);
  assert.deepEqual(jobEndNotification(job('done', 1, { message: '12 photos restored' })), { title: 'Restore “scans”: finished', body: '12 photos restored' });
  assert.match(jobEndNotification(job('failed', 0.5, { error: { code: 'INTERNAL', message: 'disk full' } }))!.body, /disk full/);
  assert.equal(jobEndNotification(job('cancelled', 0.5)), null);
});

test('job events and errors go to one log file per day', async () => {
  const s = await setup();
  try {
    s.jobs.start('restore', 'ok job', async (ctx) => ctx.report(0.5, 'half'));
    s.jobs.start('train', 'bad job', async () => {
      throw new Error('weights exploded');
    });
    await settle();
    await s.log.info('flush');
    const files = await readdir(join(s.dir, 'logs'));
    assert.deepEqual(files, [basename(s.log.fileFor(new Date()))], 'one file, named for today');
    const lines = (await readFile(join(s.dir, 'logs', files[0]!), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const events = lines.map((l) => l.event);
    assert.ok(events.includes('job.started'));
    assert.ok(events.includes('job.done'));
    const failed = lines.find((l) => l.event === 'job.failed');
    assert.equal((failed?.error as { message: string }).message, 'weights exploded');
    assert.equal(failed?.level, 'error');
    const day = new DailyLog(join(s.dir, 'x'), () => new Date(2026, 0, 5, 23, 59));
    assert.match(day.fileFor(new Date(2026, 0, 5)), /2026-01-05\.log$/);
  } finally {
    s.engine.dispose();
    await s.cleanup();
  }
});
