// A decoded photo's pixels as the restore stages read them, and a float copy of them (whole or subsampled).

/** Interleaved 8- or 16-bit pixels with 3 or more channels; the first three are RGB. */
export interface PixelSource {
  width: number;
  height: number;
  channels: number;
  pixels: Uint8Array | Uint16Array | Uint8ClampedArray;
  /** 255 or 65535. */
  maxValue: number;
  /** A photo too large to hold (large-photo.ts): `pixels` is empty and tiles are read from here. */
  disk?: RowStore;
}

/** Pixels kept on disk, read a tile at a time. */
export interface RowStore {
  /** The rectangle [x0, x0 + w) x [y0, y0 + h), inside the photo, as interleaved samples of all channels. */
  region(x0: number, y0: number, w: number, h: number): Promise<Uint8Array | Uint16Array>;
  /** Every k-th pixel in each direction, at most `maxPixels`: an in-memory source for statistics. */
  sample(maxPixels: number): Promise<PixelSource>;
}

/**
 * The part of [x0, x0 + w) x [y0, y0 + h) inside the source, as a source of its own (at least one pixel: a
 * copy for pixels in memory, a read for pixels on disk).
 */
export async function regionOf(source: PixelSource, x0: number, y0: number, w: number, h: number): Promise<PixelSource> {
  const left = Math.min(x0, source.width - 1);
  const top = Math.min(y0, source.height - 1);
  const width = Math.max(1, Math.min(x0 + w, source.width) - left);
  const height = Math.max(1, Math.min(y0 + h, source.height) - top);
  const { channels, maxValue } = source;
  if (source.disk) return { width, height, channels, maxValue, pixels: await source.disk.region(left, top, width, height) };
  if (left === 0 && width === source.width) return { width, height, channels, maxValue, pixels: source.pixels.subarray(top * width * channels, (top + height) * width * channels) };
  const pixels = new (source.pixels.constructor as Uint8ArrayConstructor | Uint16ArrayConstructor)(width * height * channels);
  for (let y = 0; y < height; y++) {
    const from = ((top + y) * source.width + left) * channels;
    pixels.set(source.pixels.subarray(from, from + width * channels), y * width * channels);
  }
  return { width, height, channels, maxValue, pixels };
}

/** At most this many pixels of the photo decide its tone correction (statistics need no more). */
const TONE_SAMPLE_PIXELS = 1_000_000;

/** sampleForStatistics of any source: a photo on disk is reduced by libvips first (never read whole). */
export async function statisticsSample(source: PixelSource): Promise<{ width: number; height: number; data: Float32Array }> {
  return sampleForStatistics(source.disk ? await source.disk.sample(TONE_SAMPLE_PIXELS) : source);
}

/** An evenly strided subsample of `source` as floats: enough for tone statistics, bounded in memory. */
export function sampleForStatistics(source: PixelSource, maxPixels = TONE_SAMPLE_PIXELS): { width: number; height: number; data: Float32Array } {
  const stride = Math.max(1, Math.ceil(Math.sqrt((source.width * source.height) / maxPixels)));
  const width = Math.ceil(source.width / stride);
  const height = Math.ceil(source.height / stride);
  const data = new Float32Array(width * height * 3);
  const scale = 1 / source.maxValue;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const src = (y * stride * source.width + x * stride) * source.channels;
      const dst = (y * width + x) * 3;
      for (let c = 0; c < 3; c++) data[dst + c] = source.pixels[src + c]! * scale;
    }
  }
  return { width, height, data };
}
