// The renderer's typed API: one RpcClient over whichever transport this window has.
import { studioContract, type StudioContract } from '#shared/contract';
import { RpcClient } from '#shared/rpc/client';
import { bridgeTransport, electronBridge, webSocketTransport } from './transports';

export type StudioApi = RpcClient<StudioContract>;

interface Connection {
  api: StudioApi;
  /** A URL the page can load an image from (only files under opened folders are served). */
  imageUrl(path: string): string;
  /** A small JPEG preview of an image, fitting a square of `size` pixels. */
  thumbnailUrl(path: string, size: number): string;
  /** Browser mode: where a dropped photo is POSTed (see browser-server.ts); null in Electron (paths are sent). */
  uploadUrl(batch: string, name: string): string | null;
  mode: 'electron' | 'browser';
}

function connect(): Connection {
  const bridge = electronBridge();
  if (bridge) {
    return {
      api: new RpcClient<StudioContract>(bridgeTransport(bridge)),
      imageUrl: (path) => `studio-image://local/?path=${encodeURIComponent(path)}`,
      thumbnailUrl: (path, size) => `studio-image://local/?path=${encodeURIComponent(path)}&thumb=${size}`,
      uploadUrl: () => null,
      mode: 'electron',
    };
  }
  const token = new URLSearchParams(location.search).get('token') ?? '';
  const wsUrl = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/rpc?token=${encodeURIComponent(token)}`;
  return {
    api: new RpcClient<StudioContract>(webSocketTransport(wsUrl), {
      closedError: () => ({
        code: 'TRANSPORT_CLOSED',
        message: 'Lost the connection to the studio server. Is `npm run serve` still running? Reload the page after restarting it.',
      }),
    }),
    imageUrl: (path) => `/image?path=${encodeURIComponent(path)}&token=${encodeURIComponent(token)}`,
    thumbnailUrl: (path, size) => `/image?path=${encodeURIComponent(path)}&thumb=${size}&token=${encodeURIComponent(token)}`,
    uploadUrl: (batch, name) => `/upload?batch=${encodeURIComponent(batch)}&name=${encodeURIComponent(name)}&token=${encodeURIComponent(token)}`,
    mode: 'browser',
  };
}

export const connection = connect();
export const api = connection.api;
export const contract = studioContract;
