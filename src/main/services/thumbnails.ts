// Small previews for the photo grid: decoded once with sharp (EXIF orientation applied), scaled to fit a
// square of the asked size, encoded as JPEG, and kept in a small cache keyed by file, size and mtime.
import { stat } from 'node:fs/promises';
import sharp from 'sharp';

export const THUMBNAIL_SIZES = [128, 256, 512, 1024] as const;
const CACHE_LIMIT = 300;
const cache = new Map<string, Buffer>();

/** Rounds a requested size up to one of the cached sizes, so the cache serves every caller. */
export function thumbnailSize(requested: number): number {
  return THUMBNAIL_SIZES.find((s) => s >= requested) ?? 1024;
}

export async function thumbnail(file: string, requested: number): Promise<Buffer> {
  const size = thumbnailSize(requested);
  const info = await stat(file);
  const key = `${file}\0${size}\0${info.mtimeMs}\0${info.size}`;
  const hit = cache.get(key);
  if (hit) {
    cache.delete(key);
    cache.set(key, hit);
    return hit;
  }
  const data = await sharp(file, { failOn: 'none' })
    .autoOrient()
    .resize(size, size, { fit: 'inside', withoutEnlargement: true })
    .flatten({ background: '#ffffff' })
    .jpeg({ quality: 82 })
    .toBuffer();
  cache.set(key, data);
  if (cache.size > CACHE_LIMIT) cache.delete(cache.keys().next().value!);
  return data;
}
