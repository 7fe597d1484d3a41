// Issue 20: what would break when Electron first launches, tested without the binary.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { load } from 'js-yaml';
import { pathsFromArgv } from '../../src/main/desktop/launch-args';
import {
  APP_USER_MODEL_ID,
  electronBinaryPath,
  electronExit,
  electronLaunch,
  guardStartup,
  navigationReplacesPage,
  OpenFileQueue,
} from '../../src/main/desktop/electron-launch';

const source = (p: string): string => readFileSync(p, 'utf8');

test('defect 2: only a committed main-frame navigation resets the protocol connection, and drops are guarded app-wide', () => {
  assert.equal(navigationReplacesPage('did-start-navigation'), false);
  assert.equal(navigationReplacesPage('did-navigate-in-page'), false);
  assert.equal(navigationReplacesPage('did-navigate'), true);
  const ipc = source('src/main/transport/electron-ipc.ts');
  assert.doesNotMatch(ipc, /'did-start-navigation'/);
  assert.match(ipc, /PAGE_COMMITTED_EVENT/);
  const app = source('src/renderer/src/App.vue');
  assert.match(app, /dragover/);
  assert.match(app, /preventDefault/);
});

test('defect 3: a failed start-up is logged, shown and exits 1; the engine process error event is listened to', async () => {
  const seen: string[] = [];
  await guardStartup(async () => {
    throw new Error('loadURL failed');
  }, {
    showError: (title, message) => seen.push(`box:${title}:${message}`),
    log: (message) => void seen.push(`log:${message}`),
    exit: (code) => seen.push(`exit:${code}`),
  });
  assert.deepEqual(seen, ['log:loadURL failed', 'box:Restoration Studio could not start:loadURL failed', 'exit:1']);
  const main = source('src/main/index.ts');
  assert.match(main, /guardStartup\(main/);
  assert.match(main, /child\.on\('error'/);
});

test('defect 4: a death by signal is a failure with the sandbox remedy, not exit 0', () => {
  assert.deepEqual(electronExit(0, null), { exitCode: 0 });
  const killed = electronExit(null, 'SIGTRAP');
  assert.equal(killed.exitCode, 1);
  assert.match(killed.message ?? '', /chrome-sandbox/);
  assert.equal(electronExit(null, 'SIGINT').exitCode, 130);
  const sandbox = electronExit(1, null, 'FATAL: The SUID sandbox helper binary was found, but is not configured correctly');
  assert.equal(sandbox.exitCode, 1);
  assert.match(sandbox.message ?? '', /AppArmor/);
  assert.match(source('scripts/start.ts'), /electronExit\(/);
});

test('defect 5: the Windows AppUserModelID equals the appId and is set at start-up', () => {
  const config = load(source('electron-builder.yml')) as { appId: string };
  assert.equal(APP_USER_MODEL_ID, config.appId);
  assert.match(source('src/main/index.ts'), /setAppUserModelId\(APP_USER_MODEL_ID\)/);
});

test('defect 6: file:// URIs from the Linux desktop file become paths', () => {
  const dir = import.meta.dirname;
  const file = join(dir, 'desktop-launch.test.ts');
  const exists = (p: string): boolean => p === file || p === join(dir, 'a b.jpg');
  assert.deepEqual(pathsFromArgv(['/usr/bin/restoration-studio', pathToFileURL(file).href], '/', exists), [file]);
  assert.deepEqual(pathsFromArgv(['exe', pathToFileURL(join(dir, 'a b.jpg')).href, 'https://example.com/x.jpg'], '/', exists), [join(dir, 'a b.jpg')]);
});

test('defect 8: a file opened at start-up is handed over once and the queue does not grow', () => {
  const q = new OpenFileQueue();
  q.push('/a.jpg');
  const later: string[][] = [];
  assert.deepEqual(q.drain((p) => later.push(p)), ['/a.jpg']);
  q.push('/b.jpg');
  assert.deepEqual(later, [['/b.jpg']]);
  assert.equal(q.size, 0);
  const main = source('src/main/index.ts');
  assert.equal(main.match(/app\.on\('open-file'/g)?.length, 1);
});

test('defect 9: npm start forwards arguments, clears ELECTRON_RUN_AS_NODE, honours ELECTRON_OVERRIDE_DIST_PATH, loads services lazily', () => {
  const launch = electronLaunch(['photo.jpg', '--verbose'], { ELECTRON_RUN_AS_NODE: '1', PATH: '/bin' });
  assert.deepEqual(launch.args, ['.', 'photo.jpg', '--verbose']);
  assert.equal(launch.env.ELECTRON_RUN_AS_NODE, undefined);
  assert.equal(launch.env.PATH, '/bin');
  const j = (...p: string[]): string => p.join('/');
  assert.equal(electronBinaryPath({ ELECTRON_OVERRIDE_DIST_PATH: '/opt/e' }, 'linux', () => null, j), '/opt/e/electron');
  assert.equal(electronBinaryPath({}, 'linux', () => '/n/electron', j), '/n/electron');
  const start = source('scripts/start.ts');
  assert.doesNotMatch(start, /^import .*cli\/index/m);
  assert.match(start, /electronLaunch\(/);
  assert.match(start, /electronBinaryPath\(/);
});
