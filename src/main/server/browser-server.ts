// Browser mode: the renderer served on 127.0.0.1 with a random token, talking to the same services over a
// WebSocket. Every HTTP request and socket must carry the token (query `token`, or the cookie set when the
// page is first opened with it); the Host and Origin headers must name this server (DNS rebinding, CSWSH).
// Only GET/HEAD are served, except POST /upload (photos dropped on the Restore view), which must also carry an
// Origin naming this server (CSRF).
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { open } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, relative, isAbsolute } from 'node:path';
import { WebSocketServer } from 'ws';
import { studioContract } from '#shared/contract';
import { StudioError, toErrorEnvelope } from '#shared/rpc/errors';
import { serveRpc, type RpcConnection } from '#shared/rpc/server';
import type { FolderAccess } from '../security/folder-access';
import type { StudioServices } from '../services';
import { MAX_MESSAGE_BYTES, webSocketTransport } from '../transport/websocket';
import { contentSecurityPolicy } from '../security/csp';
import { thumbnail } from '../services/thumbnails';
import { dropFolderForBatch, droppedNameProblem, isTooLarge, MAX_DROPPED_BYTES, saveDroppedFile } from '../services/dropped';

export interface BrowserServerOptions {
  services: StudioServices;
  folders: FolderAccess;
  rendererDir: string;
  port?: number;
  token?: string;
  /** The largest upload accepted by POST /upload (default MAX_DROPPED_BYTES); larger ones get 413. */
  maxUploadBytes?: number;
}

export interface BrowserServer {
  url: string;
  port: number;
  token: string;
  connections(): RpcConnection[];
  close(): Promise<void>;
}

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.webp': 'image/webp',
  '.gif': 'image/gif',
  '.avif': 'image/avif',
  '.tif': 'image/tiff',
  '.tiff': 'image/tiff',
  '.bmp': 'image/bmp',
  '.ico': 'image/x-icon',
  '.wasm': 'application/wasm',
  '.woff2': 'font/woff2',
};

const COOKIE = 'studio_token';

/**
 * What /image serves: photos only, never a page or a script that happens to lie in an opened folder (with
 * nosniff, a browser will not run them as anything else). SVG is left out: it can carry scripts.
 */
const PHOTO_TYPES = new Set(['.png', '.jpg', '.jpeg', '.webp', '.gif', '.avif', '.tif', '.tiff', '.bmp']);

/** The HTTP status of an error code: a StudioError's, a Node errno, or TOO_LARGE for an upload over the limit. */
function statusFor(code: string | null | undefined): number {
  switch (code) {
    case 'BAD_INPUT':
      return 400;
    case 'UNAUTHORIZED':
      return 401;
    case 'FORBIDDEN_PATH':
      return 403;
    case 'NOT_FOUND':
    case 'ENOENT':
    case 'ENOTDIR':
    case 'EISDIR':
      return 404;
    case 'TOO_LARGE':
      return 413;
    case 'IMAGE_UNREADABLE':
      return 415;
    default:
      return 500;
  }
}

/** The path of a static request, decoded; malformed percent-encoding or a NUL byte is a bad request. */
function decodedPath(pathname: string): string {
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    throw new StudioError('BAD_INPUT', 'The address is not validly encoded.');
  }
  if (decoded.includes('\0')) throw new StudioError('BAD_INPUT', 'The address contains a NUL character.');
  return decoded;
}

/** The request's URL, or null when its target cannot be parsed at all. */
function requestUrl(req: IncomingMessage): URL | null {
  try {
    return new URL(req.url ?? '/', 'http://127.0.0.1');
  } catch {
    return null;
  }
}

export async function startBrowserServer(options: BrowserServerOptions): Promise<BrowserServer> {
  const token = options.token ?? randomBytes(24).toString('base64url');
  const tokenBytes = Buffer.from(token);
  const connections = new Set<RpcConnection>();
  let port = 0;

  const tokenMatches = (candidate: string | null | undefined): boolean => {
    if (!candidate) return false;
    const bytes = Buffer.from(candidate);
    return bytes.length === tokenBytes.length && timingSafeEqual(bytes, tokenBytes);
  };
  const requestToken = (req: IncomingMessage, url: URL): string | null => {
    const fromQuery = url.searchParams.get('token');
    if (fromQuery) return fromQuery;
    const cookie = req.headers.cookie ?? '';
    const match = cookie.split(/;\s*/).find((c) => c.startsWith(`${COOKIE}=`));
    return match ? decodeURIComponent(match.slice(COOKIE.length + 1)) : null;
  };
  const hostAllowed = (req: IncomingMessage): boolean =>
    req.headers.host === `127.0.0.1:${port}` || req.headers.host === `localhost:${port}`;
  const originAllowed = (req: IncomingMessage): boolean => {
    const origin = req.headers.origin;
    return !origin || origin === `http://127.0.0.1:${port}` || origin === `http://localhost:${port}`;
  };
  /** For POST: the Origin header must be present and name this server. */
  const originRequired = (req: IncomingMessage): boolean => !!req.headers.origin && originAllowed(req);
  const maxUploadBytes = options.maxUploadBytes ?? MAX_DROPPED_BYTES;

  const securityHeaders = (res: ServerResponse): void => {
    res.setHeader('Content-Security-Policy', contentSecurityPolicy({ connect: [`ws://127.0.0.1:${port}`, `ws://localhost:${port}`] }));
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.setHeader('X-Frame-Options', 'DENY');
    res.setHeader('Cache-Control', 'no-store');
  };

  const sendError = (res: ServerResponse, status: number, error: unknown): void => {
    if (res.headersSent) return void res.destroy(); // mid-body: all that is left is to cut the reply
    const envelope = toErrorEnvelope(error);
    res.writeHead(status, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ error: envelope }));
  };

  /**
   * Streams a regular file. It is opened before any header goes out, so a folder, a missing file or one that
   * cannot be read is an error reply; a read failure after that cuts the reply rather than the server.
   */
  const sendFile = async (res: ServerResponse, file: string, contentType: string): Promise<void> => {
    const handle = await open(file, 'r');
    try {
      const info = await handle.stat();
      if (!info.isFile()) throw new StudioError('NOT_FOUND', 'Not found.');
      res.writeHead(200, { 'Content-Type': contentType, 'Content-Length': info.size });
    } catch (error) {
      await handle.close();
      throw error;
    }
    const stream = handle.createReadStream();
    stream.once('error', () => res.destroy());
    stream.pipe(res);
  };

  /**
   * POST /upload?batch=<batch>&name=<file name>, body = the file's bytes: one dropped photo saved into the
   * dropped folder named by the batch id (made by files.newDropFolder; see services/dropped.ts). Replies
   * { dir, file } with the folder and the saved file's path.
   */
  const upload = async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> => {
    // An early answer closes the connection, so the rest of a refused body is not read.
    const refuse = (status: number, error: unknown): void => {
      res.setHeader('Connection', 'close');
      sendError(res, status, error);
    };
    try {
      const name = url.searchParams.get('name') ?? '';
      const problem = droppedNameProblem(name);
      if (problem) return refuse(400, new StudioError('BAD_INPUT', problem));
      const dir = await dropFolderForBatch(url.searchParams.get('batch') ?? '');
      const length = Number(req.headers['content-length'] ?? 0);
      if (length > maxUploadBytes) return refuse(413, new StudioError('BAD_INPUT', `${name} is larger than ${Math.round(maxUploadBytes / 2 ** 20)} MB.`));
      const file = await saveDroppedFile(dir, name, req, { maxBytes: maxUploadBytes });
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ dir, file }));
    } catch (error) {
      const code = error instanceof StudioError ? error.code : null;
      refuse(statusFor(isTooLarge(error) ? 'TOO_LARGE' : code), error);
    }
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    securityHeaders(res);
    const url = requestUrl(req);
    if (!url) return sendError(res, 400, new StudioError('BAD_INPUT', 'The address cannot be read.'));
    if (!hostAllowed(req)) return sendError(res, 403, new StudioError('UNAUTHORIZED', 'Unknown host.'));
    const presented = requestToken(req, url);
    if (!tokenMatches(presented)) {
      return sendError(res, 401, new StudioError('UNAUTHORIZED', 'Open the studio with the address it printed (it carries the access token).'));
    }
    if (url.pathname === '/upload') {
      if (req.method !== 'POST') return sendError(res, 405, new StudioError('BAD_INPUT', 'Upload with POST.'));
      if (!originRequired(req)) return sendError(res, 403, new StudioError('UNAUTHORIZED', 'Uploads must come from the studio page.'));
      return await upload(req, res, url);
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      return sendError(res, 405, new StudioError('BAD_INPUT', 'Only GET is served.'));
    }
    if (url.searchParams.get('token')) {
      res.setHeader('Set-Cookie', `${COOKIE}=${encodeURIComponent(token)}; HttpOnly; SameSite=Strict; Path=/`);
    }
    try {
      if (url.pathname === '/image') return await image(res, url);
      const relativePath = url.pathname === '/' ? 'index.html' : decodedPath(url.pathname).replace(/^\/+/, '');
      const file = normalize(join(options.rendererDir, relativePath));
      const rel = relative(options.rendererDir, file);
      if (rel.startsWith('..') || isAbsolute(rel)) throw new StudioError('FORBIDDEN_PATH', 'Outside the app.');
      return await sendFile(res, file, MIME[extname(file).toLowerCase()] ?? 'application/octet-stream');
    } catch (error) {
      const status = statusFor(error instanceof StudioError ? error.code : (error as NodeJS.ErrnoException).code);
      return sendError(res, status, status === 404 && !(error instanceof StudioError) ? new StudioError('NOT_FOUND', 'Not found.') : error);
    }
  };

  /** GET /image?path=<absolute path>[&thumb=<width>]: a photo under an opened folder, or its thumbnail. */
  const image = async (res: ServerResponse, url: URL): Promise<void> => {
    const file = await options.folders.resolveFile(url.searchParams.get('path') ?? '');
    const type = extname(file).toLowerCase();
    if (!PHOTO_TYPES.has(type)) throw new StudioError('IMAGE_UNREADABLE', `${file} is not a photo; only photos are shown.`);
    const width = Number(url.searchParams.get('thumb') ?? 0);
    if (width > 0) {
      const data = await thumbnail(file, width).catch(() => {
        throw new StudioError('IMAGE_UNREADABLE', `${file} cannot be read as an image.`);
      });
      res.writeHead(200, { 'Content-Type': 'image/jpeg', 'Content-Length': data.length });
      return void res.end(data);
    }
    return sendFile(res, file, MIME[type] ?? 'application/octet-stream');
  };

  // No request may take the server down: whatever escapes the handler becomes a 500 for that request alone.
  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => sendError(res, 500, error));
  });

  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES });
  server.on('upgrade', (req, socket, head) => {
    socket.on('error', () => socket.destroy()); // a client that vanishes mid-handshake
    const url = requestUrl(req);
    if (!url || url.pathname !== '/rpc' || !hostAllowed(req) || !originAllowed(req) || !tokenMatches(requestToken(req, url))) {
      socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      const transport = webSocketTransport(ws);
      const connection = serveRpc(transport, studioContract, options.services.handlers, options.services.events);
      connections.add(connection);
      transport.onClose(() => connections.delete(connection));
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  port = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}/?token=${token}`,
    port,
    token,
    connections: () => [...connections],
    close: async () => {
      for (const client of wss.clients) client.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
