// Dropped photos: copies into a fresh <dataDir>/dropped/<stamp> folder (originals untouched, bad entries
// reported with a reason, a single folder opened as is), and browser mode's POST /upload gate (token, Origin,
// name, size).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { request } from 'node:http';
import { mkdir, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import {
  createDropFolder,
  dropFolderForBatch,
  droppedRoot,
  importDroppedPaths,
  newDropFolder,
  saveDroppedFile,
} from '../../src/main/services/dropped';
import { startBrowserServer, type BrowserServer } from '../../src/main/server/browser-server';
import { FolderAccess } from '../../src/main/security/folder-access';
import type { StudioServices } from '../../src/main/services';
import { tempDir, writeTestImage } from '../helpers/fixtures';

let root: string;
let cleanup: () => Promise<void>;
let photos: string;
let server: BrowserServer;
let png: Buffer;

const sha = async (file: string): Promise<string> => createHash('sha256').update(await readFile(file)).digest('hex');

before(async () => {
  ({ dir: root, cleanup } = await tempDir());
  process.env.STUDIO_HOME = join(root, 'home');
  photos = join(root, 'photos');
  await mkdir(photos);
  png = await writeTestImage(join(photos, 'a.png'), 32, 24, 1);
  await writeTestImage(join(photos, 'b.png'), 32, 24, 2);
  await writeFile(join(photos, 'notes.txt'), 'not a photo');
  // The upload route needs no services: a stub is enough.
  const services = { handlers: {}, events: {} } as unknown as StudioServices;
  server = await startBrowserServer({ services, folders: new FolderAccess(), rendererDir: join(root, 'ui'), maxUploadBytes: 1024 * 1024 });
});

after(async () => {
  await server?.close();
  await cleanup?.();
});

test('the dropped root is <dataDir>/dropped (STUDIO_HOME honoured)', () => {
  assert.equal(droppedRoot(), join(root, 'home', 'dropped'));
});

test('drop folders are named by local time, with -2, -3 when the second is taken', async () => {
  const base = join(root, 'stamps');
  const when = new Date(2024, 0, 2, 3, 4, 5);
  assert.equal(basename(await createDropFolder(base, when)), '20240102-030405');
  assert.equal(basename(await createDropFolder(base, when)), '20240102-030405-2');
  assert.equal(basename(await createDropFolder(base, when)), '20240102-030405-3');
});

test('importDroppedPaths copies the photos, reports a .txt, a missing and a relative path, and leaves the originals alone', async () => {
  const originals = ['a.png', 'b.png', 'notes.txt'].map((n) => join(photos, n));
  const before = await Promise.all(originals.map(async (f) => ({ hash: await sha(f), mtime: (await stat(f)).mtimeMs })));
  const missing = join(photos, 'gone.png');
  const result = await importDroppedPaths([...originals, missing, 'relative/c.png', '']);

  assert.ok(result.dir);
  assert.equal(join(result.dir, '..'), droppedRoot());
  assert.match(basename(result.dir), /^\d{8}-\d{6}(-\d+)?$/);
  assert.deepEqual((await readdir(result.dir)).sort(), ['a.png', 'b.png'], 'only the photos, no temporaries');
  assert.deepEqual(result.imported.map((p) => basename(p)).sort(), ['a.png', 'b.png']);
  assert.deepEqual(await readFile(join(result.dir, 'a.png')), png);

  const reasons = new Map(result.rejected.map((r) => [r.file, r.reason]));
  assert.equal(result.rejected.length, 4);
  assert.match(reasons.get(join(photos, 'notes.txt'))!, /^notes\.txt is not a photo \(supported: .*\.png.*\)\.$/);
  assert.match(reasons.get(missing)!, /gone\.png was not found/);
  assert.match(reasons.get('relative/c.png')!, /not an absolute path/);
  assert.match(reasons.get('')!, /not an absolute path/);

  const after = await Promise.all(originals.map(async (f) => ({ hash: await sha(f), mtime: (await stat(f)).mtimeMs })));
  assert.deepEqual(after, before, 'the originals are untouched');
  assert.deepEqual((await readdir(photos)).sort(), ['a.png', 'b.png', 'notes.txt'], 'nothing written beside them');
});

test('a single dropped folder comes back as is, nothing copied; a folder among files is reported', async () => {
  const count = async (): Promise<number> => (await readdir(droppedRoot()).catch(() => [])).length;
  const folders = await count();
  assert.deepEqual(await importDroppedPaths([photos]), { dir: photos, imported: [], rejected: [] });
  assert.equal(await count(), folders, 'no folder created');

  const mixed = await importDroppedPaths([photos, join(photos, 'a.png')]);
  assert.deepEqual(mixed.imported.map((p) => basename(p)), ['a.png']);
  assert.match(mixed.rejected[0]!.reason, /photos is a folder; drop a folder on its own/);
});

test('a drop with no photo creates no folder', async () => {
  const folders = (await readdir(droppedRoot())).length;
  const result = await importDroppedPaths([join(photos, 'notes.txt')]);
  assert.equal(result.dir, null);
  assert.deepEqual(result.imported, []);
  assert.equal(result.rejected.length, 1);
  assert.equal((await readdir(droppedRoot())).length, folders);
});

test('saveDroppedFile refuses bad names, and keeps both files when a name repeats', async () => {
  const dir = await createDropFolder(join(root, 'saves'));
  for (const name of ['', '../evil.png', 'a/b.png', 'a\\b.png', '..', '.hidden.png', 'x..png', 'notes.txt', 'noext', 'nul\u0000.png']) {
    await assert.rejects(saveDroppedFile(dir, name, png), (e: Error & { code?: string }) => e.code === 'BAD_INPUT', `${JSON.stringify(name)} must be refused`);
  }
  assert.deepEqual(await readdir(dir), [], 'nothing was written');
  assert.ok(!(await readdir(root)).includes('evil.png'), 'no traversal out of the folder');

  const first = await saveDroppedFile(dir, 'photo.PNG', png);
  const second = await saveDroppedFile(dir, 'photo.PNG', (async function* () {
    yield png.subarray(0, 10);
    yield png.subarray(10);
  })());
  assert.equal(basename(first), 'photo.PNG');
  assert.equal(basename(second), 'photo (2).PNG');
  assert.deepEqual(await readFile(second), png);
  await assert.rejects(saveDroppedFile(dir, 'big.png', Buffer.alloc(11), { maxBytes: 10 }), /larger than/);
});

test('newDropFolder checks the names and creates a folder only when one is a photo', async () => {
  const none = await newDropFolder(['notes.txt', '../x.png']);
  assert.deepEqual([none.dir, none.batch], [null, null]);
  assert.equal(none.rejected.length, 2);
  const some = await newDropFolder(['a.png', 'notes.txt']);
  assert.ok(some.dir && some.batch);
  assert.equal(await dropFolderForBatch(some.batch), some.dir);
  assert.deepEqual(some.rejected.map((r) => r.file), ['notes.txt']);
  await assert.rejects(dropFolderForBatch('../home'), /malformed/);
  await assert.rejects(dropFolderForBatch('nope'), /No drop folder/);
});

// --- POST /upload ---------------------------------------------------------------------------------------

interface Reply {
  status: number;
  body: string;
}

function post(path: string, body: Buffer, headers: Record<string, string> = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: server.port,
        path,
        method: 'POST',
        headers: headers['transfer-encoding'] ? headers : { 'content-length': String(body.length), ...headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
      },
    );
    // A server that answers early may close before the whole body is sent.
    req.on('error', (e: NodeJS.ErrnoException) => (e.code === 'EPIPE' || e.code === 'ECONNRESET' ? undefined : reject(e)));
    req.end(body);
  });
}

const ours = (): Record<string, string> => ({ origin: `http://127.0.0.1:${server.port}` });
const uploadPath = (batch: string, name: string, token = server.token): string =>
  `/upload?batch=${encodeURIComponent(batch)}&name=${encodeURIComponent(name)}${token ? `&token=${token}` : ''}`;

test('POST /upload: no token 401, foreign or missing Origin 403, bad name 400, unknown batch 404, too large 413', async () => {
  const { batch, dir } = await newDropFolder(['a.png']);
  assert.ok(batch && dir);
  assert.equal((await post(uploadPath(batch, 'a.png', ''), png, ours())).status, 401);
  assert.equal((await post(uploadPath(batch, 'a.png', 'wrong'), png, ours())).status, 401);
  assert.equal((await post(uploadPath(batch, 'a.png'), png, { origin: 'http://evil.example' })).status, 403);
  assert.equal((await post(uploadPath(batch, 'a.png'), png, { origin: `http://127.0.0.1:${server.port + 1}` })).status, 403);
  assert.equal((await post(uploadPath(batch, 'a.png'), png)).status, 403, 'Origin is required for POST');
  for (const name of ['../a.png', 'sub/a.png', 'notes.txt', '.a.png', '']) {
    const reply = await post(uploadPath(batch, name), png, ours());
    assert.equal(reply.status, 400, `${JSON.stringify(name)} must be refused`);
  }
  assert.match((await post(uploadPath(batch, 'notes.txt'), png, ours())).body, /notes\.txt is not a photo/);
  assert.equal((await post(uploadPath('../../etc', 'a.png'), png, ours())).status, 400);
  assert.equal((await post(uploadPath('19990101-000000', 'a.png'), png, ours())).status, 404);
  assert.equal((await post(uploadPath(batch, 'big.png'), Buffer.alloc(1024 * 1024 + 1), ours())).status, 413);
  // A body longer than announced cannot slip past the limit either (chunked, no Content-Length).
  const chunked = await post(uploadPath(batch, 'big.png'), Buffer.alloc(1024 * 1024 + 1), { ...ours(), 'transfer-encoding': 'chunked' });
  assert.equal(chunked.status, 413);
  assert.deepEqual(await readdir(dir), [], 'nothing written by refused uploads');
});

test('POST /upload with the token and our Origin writes the photo; other methods and paths stay refused', async () => {
  const { batch, dir } = await newDropFolder(['a.png']);
  assert.ok(batch && dir);
  const reply = await post(uploadPath(batch, 'a.png'), png, ours());
  assert.equal(reply.status, 200, reply.body);
  const body = JSON.parse(reply.body) as { dir: string; file: string };
  assert.equal(body.dir, dir);
  assert.equal(body.file, join(dir, 'a.png'));
  assert.deepEqual(await readFile(body.file), png);
  assert.equal((await post(`/?token=${server.token}`, png, ours())).status, 405, 'POST elsewhere is still refused');
  const get = await new Promise<number>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: server.port, path: uploadPath(batch, 'a.png'), method: 'GET' }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
  assert.equal(get, 405);
});

test('uploads and drops are checked by content: text as .jpg, a page as .png, an SVG and an empty file are refused', async () => {
  const { batch, dir } = await newDropFolder(['a.png']);
  assert.ok(batch && dir);
  const fakes: [string, Buffer, RegExp][] = [
    ['notes.jpg', Buffer.from('just some text, not a photo\n'), /notes\.jpg is not a photo/],
    ['page.png', Buffer.from('<!doctype html><script>alert(1)</script><svg xmlns="http://www.w3.org/2000/svg"/>'), /page\.png is not a photo/],
    ['drawing.png', Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"><rect width="4" height="4"/></svg>'), /drawing\.png is not a photo: it holds SVG data/],
    ['empty.webp', Buffer.alloc(0), /empty\.webp is empty \(0 bytes\)/],
  ];
  for (const [name, bytes, reason] of fakes) {
    const reply = await post(uploadPath(batch, name), bytes, ours());
    assert.equal(reply.status, 415, `${name}: ${reply.body}`);
    assert.match((JSON.parse(reply.body) as { error: { message: string } }).error.message, reason);
  }
  assert.deepEqual(await readdir(dir), [], 'no refused upload appears in the folder, not even for a moment under a temporary name');
  assert.equal((await post(uploadPath(batch, 'a.png'), png, ours())).status, 200, 'a real photo still goes through');

  // The Electron drop (paths) checks content the same way.
  const originals = join(root, 'fake-originals');
  await mkdir(originals, { recursive: true });
  for (const [name, bytes] of fakes) await writeFile(join(originals, name), bytes);
  const dropped = await importDroppedPaths(fakes.map(([name]) => join(originals, name)));
  assert.equal(dropped.dir, null, 'no folder for a drop without photos');
  assert.deepEqual(dropped.imported, []);
  fakes.forEach(([name, , reason], i) => assert.match(dropped.rejected[i]!.reason, reason, name));
});
