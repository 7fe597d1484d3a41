// A decoded photo's pixels as the restore stages read them, and a float copy of them (whole or subsampled).

/** Interleaved 8- or 16-bit pixels with 3 or more channels; the first three are RGB. */
export interface PixelSource {
  width: number;
  height: number;
  channels: number;
  pixels: Uint8Array | Uint16Array | Uint8ClampedArray;
  /** 255 or 65535. */
  maxValue: number;
}

/** At most this many pixels of the photo decide its tone correction (statistics need no more). */
const TONE_SAMPLE_PIXELS = 1_000_000;

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
