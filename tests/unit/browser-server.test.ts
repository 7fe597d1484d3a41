// Browser mode's gate: no token, no access (HTTP and WebSocket); the image route serves only files under
// the folders the user opened, whatever tricks the path plays.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import sharp from 'sharp';
import { startBrowserServer, type BrowserServer } from '../../src/main/server/browser-server';
import { FolderAccess } from '../../src/main/security/folder-access';
import { createStudioServices } from '../../src/main/services';
import { EngineHost, inProcessLauncher } from '../../src/main/services/engine-host';
import { JobRegistry } from '../../src/main/services/job-registry';
import { SettingsStore } from '../../src/main/services/settings';
import { RpcClient } from '#shared/rpc/client';
import type { StudioContract } from '#shared/contract';
import { MAX_MESSAGE_BYTES, webSocketTransport } from '../../src/main/transport/websocket';
import { tempDir, writeTestImage } from '../helpers/fixtures';
import { TEST_BACKEND } from '../helpers/native';

let server: BrowserServer;
let engine: EngineHost;
let root: string;
let cleanup: () => Promise<void>;
let photo: string;
let photoBytes: Buffer;

before(async () => {
  ({ dir: root, cleanup } = await tempDir());
  process.env.STUDIO_HOME = join(root, 'home');
  process.env.STUDIO_BACKEND = TEST_BACKEND;
  const ui = join(root, 'ui');
  await mkdir(join(ui, 'assets'), { recursive: true });
  await writeFile(join(ui, 'index.html'), '<!doctype html><title>studio</title>');
  await writeFile(join(ui, 'assets', 'app.js'), 'console.log(1)');
  await mkdir(join(root, 'photos', 'sub'), { recursive: true });
  await mkdir(join(root, 'secret'), { recursive: true });
  photo = join(root, 'photos', 'sub', 'a.png');
  photoBytes = await writeTestImage(photo);
  await writeTestImage(join(root, 'secret', 'private.png'));
  await writeFile(join(root, 'photos-evil.txt'), 'sibling with a shared prefix');
  await symlink(join(root, 'secret', 'private.png'), join(root, 'photos', 'link.png'));
  await symlink(join(root, 'secret'), join(root, 'photos', 'linkdir'));

  engine = new EngineHost(await inProcessLauncher());
  const folders = new FolderAccess();
  await folders.allow(join(root, 'photos'));
  const services = createStudioServices({
    mode: 'browser',
    engine,
    settings: SettingsStore.inDataDir(join(root, 'home')),
    folders,
    jobs: new JobRegistry(),
  });
  server = await startBrowserServer({ services, folders, rendererDir: ui });
});

after(async () => {
  await server.close();
  engine.dispose();
  await cleanup();
});

interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** A raw GET, so the path reaches the server exactly as written (no client-side normalisation). */
function get(path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: server.port, path, method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

const withToken = (path: string): string => `${path}${path.includes('?') ? '&' : '?'}token=${server.token}`;
const image = (path: string): string => withToken(`/image?path=${encodeURIComponent(path)}`);

test('prints a loopback address carrying the token', () => {
  assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]{20,}$/);
});

test('HTTP without the token, or with a wrong one, is refused with 401', async () => {
  assert.equal((await get('/')).status, 401);
  assert.equal((await get('/assets/app.js')).status, 401);
  assert.equal((await get(`/?token=${server.token.slice(0, -1)}x`)).status, 401);
  assert.equal((await get(`/image?path=${encodeURIComponent(photo)}`)).status, 401);
  assert.equal((await get('/', { cookie: 'studio_token=nope' })).status, 401);
});

test('with the token the page loads, sets a strict cookie and a CSP; the cookie then suffices', async () => {
  const page = await get(withToken('/'));
  assert.equal(page.status, 200);
  assert.match(page.body.toString(), /studio/);
  assert.match(String(page.headers['content-security-policy']), /default-src 'none'; script-src 'self'/);
  const cookie = String(page.headers['set-cookie']);
  assert.match(cookie, /HttpOnly/);
  assert.match(cookie, /SameSite=Strict/);
  const asset = await get('/assets/app.js', { cookie: cookie.split(';')[0]! });
  assert.equal(asset.status, 200);
  assert.match(String(asset.headers['content-type']), /javascript/);
});

test('a foreign Host header is refused (DNS rebinding)', async () => {
  assert.equal((await get(withToken('/'), { host: `evil.example:${server.port}` })).status, 403);
});

test('only GET is served', async () => {
  assert.equal((await get(withToken('/'), {}, 'POST')).status, 405);
});

test('the image route serves files under an opened folder', async () => {
  const res = await get(image(photo));
  assert.equal(res.status, 200);
  assert.equal(res.headers['content-type'], 'image/png');
  assert.deepEqual(res.body, await readFile(photo));
  assert.deepEqual(res.body, photoBytes);
});

test('the image route serves thumbnails of opened photos, and a clear error for a broken one', async () => {
  const res = await get(withToken(`/image?path=${encodeURIComponent(photo)}&thumb=16`));
  assert.equal(res.status, 200);
  assert.equal(res.headers['content-type'], 'image/jpeg');
  const meta = await sharp(res.body).metadata();
  assert.ok((meta.width ?? 0) <= 128 && (meta.width ?? 0) > 0);
  const broken = join(root, 'photos', 'broken.jpg');
  await writeFile(broken, 'not a jpeg');
  const bad = await get(withToken(`/image?path=${encodeURIComponent(broken)}&thumb=128`));
  assert.equal(bad.status, 415);
  assert.equal((JSON.parse(bad.body.toString()) as { error: { code: string } }).error.code, 'IMAGE_UNREADABLE');
  const outside = await get(withToken(`/image?path=${encodeURIComponent(join(root, 'secret', 'private.png'))}&thumb=128`));
  assert.equal(outside.status, 403);
});

test('the image route refuses traversal, absolute paths outside, symlinks out and encoded tricks', async () => {
  const attempts = [
    join(root, 'photos', '..', 'secret', 'private.png'),
    `${root}/photos/sub/../../secret/private.png`,
    join(root, 'secret', 'private.png'),
    '/etc/passwd',
    join(root, 'photos', 'link.png'),
    join(root, 'photos', 'linkdir', 'private.png'),
    join(root, 'photos-evil.txt'),
    'photos/sub/a.png',
    '../secret/private.png',
  ];
  for (const path of attempts) {
    const res = await get(image(path));
    assert.equal(res.status, 403, `${path} must be refused, got ${res.status}`);
    assert.ok(!res.body.includes(Buffer.from('PNG')), `${path} leaked bytes`);
  }
  // Double-encoded and raw traversal in the query, and traversal in the page path.
  const raw = [
    withToken(`/image?path=${root}/photos/%2e%2e/secret/private.png`),
    withToken(`/image?path=${encodeURIComponent(encodeURIComponent(join(root, 'secret', 'private.png')))}`),
    withToken(`/image?path=${encodeURIComponent(join(root, 'photos', 'sub', 'a.png'))}%00.png`),
  ];
  for (const path of raw) {
    const res = await get(path);
    assert.ok(res.status === 403 || res.status === 404, `${path} must be refused, got ${res.status}`);
  }
  for (const path of ['/../../../etc/passwd', '/assets/%2e%2e/%2e%2e/%2e%2e/etc/passwd', '/%2e%2e%2fsecret']) {
    const res = await get(withToken(path));
    assert.ok(res.status === 403 || res.status === 404, `${path} must be refused, got ${res.status}`);
    assert.ok(!res.body.toString().includes('root:'), `${path} leaked a system file`);
  }
});

function openSocket(query: string, headers: Record<string, string> = {}): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`ws://127.0.0.1:${server.port}/rpc${query}`, { headers });
    socket.once('open', () => resolve(socket));
    socket.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    socket.once('error', reject);
  });
}

test('a WebSocket without the token, with a wrong one, or from another origin is refused', async () => {
  await assert.rejects(openSocket(''), /401/);
  await assert.rejects(openSocket('?token=wrong'), /401/);
  await assert.rejects(openSocket(`?token=${server.token}`, { origin: 'http://evil.example' }), /401/);
});

test('a WebSocket with the token speaks the protocol', async () => {
  const socket = await openSocket(`?token=${server.token}`, { origin: `http://127.0.0.1:${server.port}` });
  const client = new RpcClient<StudioContract>(webSocketTransport(socket));
  const info = await client.call('app.info', {});
  assert.equal(info.mode, 'browser');
  assert.equal(info.backend, 'cpu');
  const settings = await client.call('settings.update', { quality: 80 });
  assert.equal(settings.quality, 80);
  client.close();
  // The server hears of the close asynchronously: poll (a loaded machine may take a while) rather than sleep.
  for (let waited = 0; server.connections().length > 0 && waited < 5_000; waited += 20) await new Promise((r) => setTimeout(r, 20));
  assert.equal(server.connections().length, 0, 'the closed connection is forgotten');
});

// --- One request cannot take the server down (each of these used to crash it or hang the client) ---------

async function stillServing(): Promise<void> {
  assert.equal((await get(withToken('/'))).status, 200, 'the server still answers');
}

test('a folder asked for as a file is a 404, on the static route and the image route', async () => {
  for (const path of ['/assets', '/assets/']) {
    const res = await get(withToken(path));
    assert.equal(res.status, 404, `${path}: ${res.status} ${res.body.toString()}`);
  }
  assert.equal((await get(image(join(root, 'photos', 'sub')))).status, 404);
  await stillServing();
});

test('the image route serves photos only, never a page or a script from an opened folder', async () => {
  const page = join(root, 'photos', 'page.html');
  const script = join(root, 'photos', 'evil.js');
  const drawing = join(root, 'photos', 'drawing.svg');
  await writeFile(page, '<!doctype html><script src="/image?path=evil.js"></script>');
  await writeFile(script, 'alert(document.cookie)');
  await writeFile(drawing, '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>');
  for (const file of [page, script, drawing]) {
    for (const query of ['', '&thumb=64']) {
      const res = await get(withToken(`/image?path=${encodeURIComponent(file)}${query}`));
      assert.equal(res.status, 415, `${file}${query}: ${res.status}`);
      assert.match(String(res.headers['content-type']), /application\/json/);
      assert.match(String(res.headers['x-content-type-options']), /nosniff/);
      assert.ok(!res.body.includes(Buffer.from('alert')), `${file} leaked its content`);
    }
  }
  const ok = await get(image(photo));
  assert.equal(ok.headers['x-content-type-options'], 'nosniff');
});

test('malformed percent-encoding and NUL bytes in a path are 400 with a sentence, not 500', async () => {
  for (const path of ['/%E0%A4%A', '/assets/%ZZ.js', '/%00', '/assets/app.js%00.png']) {
    const res = await get(withToken(path));
    assert.equal(res.status, 400, `${path}: ${res.status} ${res.body.toString()}`);
    const { error } = JSON.parse(res.body.toString()) as { error: { code: string; message: string } };
    assert.equal(error.code, 'BAD_INPUT');
    assert.doesNotMatch(error.message, /URI malformed|ERR_|must be a string without null bytes/);
  }
  await stillServing();
});

test('a WebSocket message over the size limit closes that socket (1009) and nothing else', async () => {
  const socket = await openSocket(`?token=${server.token}`, { origin: `http://127.0.0.1:${server.port}` });
  const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
  socket.send('x'.repeat(MAX_MESSAGE_BYTES + 1));
  assert.equal(await closed, 1009);
  await new Promise((r) => setTimeout(r, 200)); // the server side's error surfaces after the close frame
  await stillServing();
  const again = await openSocket(`?token=${server.token}`, { origin: `http://127.0.0.1:${server.port}` });
  const client = new RpcClient<StudioContract>(webSocketTransport(again));
  assert.equal((await client.call('app.info', {})).mode, 'browser');
  client.close();
});

test('settings changed one at a time keep every change (each save used to reset the others)', async () => {
  const socket = await openSocket(`?token=${server.token}`, { origin: `http://127.0.0.1:${server.port}` });
  const client = new RpcClient<StudioContract>(webSocketTransport(socket));
  await client.call('settings.update', { theme: 'dark' });
  await client.call('settings.update', { outputFormat: 'webp' });
  const last = await client.call('settings.update', { quality: 81 });
  assert.deepEqual([last.theme, last.outputFormat, last.quality], ['dark', 'webp', 81]);
  const onDisk = JSON.parse(await readFile(join(root, 'home', 'settings.json'), 'utf8')) as Record<string, unknown>;
  assert.deepEqual([onDisk.theme, onDisk.outputFormat, onDisk.quality], ['dark', 'webp', 81]);
  const reread = await client.call('settings.get', {});
  assert.deepEqual([reread.theme, reread.outputFormat, reread.quality], ['dark', 'webp', 81]);
  client.close();
});
