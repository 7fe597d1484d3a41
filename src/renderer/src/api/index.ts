// The renderer's typed API: one RpcClient over whichever transport this window has.
import { studioContract, type StudioContract } from '#shared/contract';
import { RpcClient } from '#shared/rpc/client';
import { bridgeTransport, electronBridge, webSocketTransport } from './transports';

export type StudioApi = RpcClient<StudioContract>;

interface Connection {
  api: StudioApi;
  /** A URL the page can load an image from (only files under opened folders are served). */
  imageUrl(path: string): string;
  /**
   * A small JPEG preview of an image, fitting a square of `size` pixels. `version` (e.g. the job that wrote
   * the file) makes a new URL when the file may have changed: the page keeps images by URL.
   */
  thumbnailUrl(path: string, size: number, version?: string): string;
  /** Browser mode: where a dropped photo is POSTed (see browser-server.ts); null in Electron (paths are sent). */
  uploadUrl(batch: string, name: string): string | null;
  mode: 'electron' | 'browser';
}

/** The server ignores `v`; it only makes the URL differ. */
const versionParam = (version?: string): string => (version ? `&v=${encodeURIComponent(version)}` : '');

function connect(): Connection {
  const bridge = electronBridge();
  if (bridge) {
    return {
      api: new RpcClient<StudioContract>(bridgeTransport(bridge)),
      imageUrl: (path) => `studio-image://local/?path=${encodeURIComponent(path)}`,
      thumbnailUrl: (path, size, version) => `studio-image://local/?path=${encodeURIComponent(path)}&thumb=${size}${versionParam(version)}`,
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
    thumbnailUrl: (path, size, version) =>
      `/image?path=${encodeURIComponent(path)}&thumb=${size}${versionParam(version)}&token=${encodeURIComponent(token)}`,
    uploadUrl: (batch, name) => `/upload?batch=${encodeURIComponent(batch)}&name=${encodeURIComponent(name)}&token=${encodeURIComponent(token)}`,
    mode: 'browser',
  };
}

export const connection = connect();
export const api = connection.api;
export const contract = studioContract;
