// A decoded photo's pixels as the restore stages read them, and a float copy of them (whole or subsampled).

/** Interleaved 8- or 16-bit pixels with 3 or more channels; the first three are RGB. */
export interface PixelSource {
  width: number;
  height: number;
  channels: number;
  pixels: Uint8Array | Uint16Array | Uint8ClampedArray;
  /** 255 or 65535. */
  maxValue: number;
  /** A photo too large to hold (large-photo.ts): `pixels` is empty and rows are read from here. */
  disk?: RowStore;
}

/** Pixels kept on disk, read a band of rows at a time. */
export interface RowStore {
  /** Rows [y0, y1) as interleaved samples of all channels. */
  rows(y0: number, y1: number): Promise<Uint8Array | Uint16Array>;
  /** Every k-th pixel in each direction, at most `maxPixels`: an in-memory source for statistics. */
  sample(maxPixels: number): Promise<PixelSource>;
}

/** Rows [y0, y1) of a source as a source of their own (a view for pixels in memory, a read for pixels on disk). */
export async function rowsOf(source: PixelSource, y0: number, y1: number): Promise<PixelSource> {
  const top = Math.min(y0, source.height - 1);
  const end = Math.max(top + 1, Math.min(y1, source.height));
  const { width, channels, maxValue } = source;
  const pixels = source.disk ? await source.disk.rows(top, end) : source.pixels.subarray(top * width * channels, end * width * channels);
  return { width, height: end - top, channels, maxValue, pixels };
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
