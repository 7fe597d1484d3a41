// Image files ↔ RGB pixel buffers. Every image the data pipeline touches goes through decodeImageFile, so
// the same rules apply everywhere:
// - EXIF orientation is applied (sharp autoOrient), so pixels are the way a viewer shows them;
// - grayscale becomes RGB by replicating the channel; CMYK and palette images become sRGB;
// - 16-bit images keep their precision (read as 16-bit, scaled to [0, 1] by 65535);
// - alpha is composited on WHITE and then dropped. Transparent regions of photos and scans are background
//   (paper, page); white matches how viewers and printers show them, whereas dropping alpha would expose
//   whatever RGB the encoder left under transparent pixels (often black or garbage);
// - multi-frame files (GIF, TIFF pages, animated WebP) use their first frame.
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import sharp from 'sharp';
import { withSharpReason } from './sharp-errors';

/** Float RGB image: HWC, 3 channels, values nominally in [0, 1]. */
export interface RgbImage {
  width: number;
  height: number;
  data: Float32Array;
}

/** A decoded image as stored (8- or 16-bit), which is 4x or 2x smaller than floats; value = data[i] * scale. */
export interface RawRgbImage {
  width: number;
  height: number;
  data: Uint8Array | Uint16Array;
  /** 1/255 or 1/65535. */
  scale: number;
}

/** What decoding had to do to get plain RGB out of a file (shown by `studio dataset check`). */
export interface DecodeNotes {
  format: string;
  /** EXIF orientation tag (2..8) that was applied, if any. */
  orientation?: number;
  grayscale?: boolean;
  sixteenBit?: boolean;
  alpha?: boolean;
  cmyk?: boolean;
  /** Number of frames/pages when more than one (only the first is used). */
  frames?: number;
}

export interface DecodedImage {
  image: RawRgbImage;
  notes: DecodeNotes;
}

/** Extensions treated as images; the rest of the files in a dataset folder are reported as non-images. */
export const IMAGE_EXTENSIONS = new Set([
  '.jpg',
  '.jpeg',
  '.jpe',
  '.jfif',
  '.png',
  '.webp',
  '.tif',
  '.tiff',
  '.gif',
  '.avif',
  '.heif',
  '.heic',
]);

/** Lossless formats first: when a stem has several files, the earlier extension wins. */
export const EXTENSION_PREFERENCE = ['.png', '.tif', '.tiff', '.webp', '.avif', '.heif', '.heic', '.gif', '.jpg', '.jpeg', '.jpe', '.jfif'];

export function isImageFileName(name: string): boolean {
  return IMAGE_EXTENSIONS.has(extname(name).toLowerCase());
}

/** How strict decoding is: 'truncated' rejects truncated/corrupt data but tolerates benign libjpeg warnings. */
const FAIL_ON = 'truncated' as const;

/** Decodes bytes to 8- or 16-bit RGB following the rules at the top of this file. Throws on corrupt data. */
export function decodeImage(input: Buffer): Promise<DecodedImage> {
  return withSharpReason(() => decodeOnce(input));
}

async function decodeOnce(input: Buffer): Promise<DecodedImage> {
  const pipeline = sharp(input, { failOn: FAIL_ON, pages: 1 });
  const meta = await pipeline.metadata();
  const sixteenBit = meta.depth === 'ushort' || meta.depth === 'short' || (meta.bitsPerSample ?? 8) > 8;
  const notes: DecodeNotes = { format: meta.format ?? 'unknown' };
  if (meta.orientation && meta.orientation > 1) notes.orientation = meta.orientation;
  if (meta.space === 'b-w' || meta.space === 'grey16' || (meta.channels ?? 3) <= 2) notes.grayscale = true;
  if (sixteenBit) notes.sixteenBit = true;
  if (meta.hasAlpha) notes.alpha = true;
  if (meta.space === 'cmyk') notes.cmyk = true;
  if ((meta.pages ?? 1) > 1) notes.frames = meta.pages;

  pipeline.autoOrient();
  if (meta.hasAlpha) pipeline.flatten({ background: '#ffffff' });
  if (sixteenBit) pipeline.toColourspace('rgb16').raw({ depth: 'ushort' });
  else pipeline.toColourspace('srgb').raw();
  const { data, info } = await pipeline.toBuffer({ resolveWithObject: true });
  if (info.channels !== 3) throw new Error(`decoded to ${info.channels} channels instead of 3`);
  const wide = data.length === info.width * info.height * 3 * 2;
  const pixels =
    wide
      ? data.byteOffset % 2 === 0
        ? new Uint16Array(data.buffer, data.byteOffset, data.length / 2)
        : new Uint16Array(Uint8Array.prototype.slice.call(data).buffer)
      : new Uint8Array(data.buffer, data.byteOffset, data.length);
  return {
    image: { width: info.width, height: info.height, data: pixels, scale: wide ? 1 / 65535 : 1 / 255 },
    notes,
  };
}

export async function decodeImageFile(path: string): Promise<DecodedImage> {
  return decodeImage(await readFile(path));
}

export function rawToFloat(raw: RawRgbImage): RgbImage {
  const out = new Float32Array(raw.data.length);
  const { data, scale } = raw;
  for (let i = 0; i < data.length; i++) out[i] = data[i]! * scale;
  return { width: raw.width, height: raw.height, data: out };
}

export async function loadRgbImage(path: string): Promise<RgbImage> {
  return rawToFloat((await decodeImageFile(path)).image);
}

export function createImage(width: number, height: number): RgbImage {
  return { width, height, data: new Float32Array(width * height * 3) };
}

export function cloneImage(image: RgbImage): RgbImage {
  return { width: image.width, height: image.height, data: image.data.slice() };
}

/** Rounds to 8 bits, clipping to [0, 255]. */
export function toUint8(image: RgbImage): Uint8Array {
  const out = new Uint8Array(image.data.length);
  const d = image.data;
  for (let i = 0; i < d.length; i++) {
    const v = d[i]! * 255 + 0.5;
    out[i] = v < 0 ? 0 : v >= 255 ? 255 : v | 0; // Uint8Array truncates; +0.5 makes it round
  }
  return out;
}

export function fromUint8(pixels: Uint8Array | Buffer, width: number, height: number): RgbImage {
  const out = new Float32Array(width * height * 3);
  for (let i = 0; i < out.length; i++) out[i] = pixels[i]! / 255;
  return { width, height, data: out };
}

export async function encodePng(image: RgbImage): Promise<Buffer> {
  return sharp(toUint8(image), { raw: { width: image.width, height: image.height, channels: 3 } })
    .png({ compressionLevel: 6 })
    .toBuffer();
}


/** A short, human reason from a decode error (sharp messages can be multi-line and repetitive). */
export function decodeFailureReason(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const first = message.split('\n').find((line) => line.trim().length > 0) ?? 'unknown error';
  if (/unsupported image format/i.test(first)) return 'not an image sharp can read (unsupported or unrecognised format)';
  return first.replace(/^Input (buffer|file) (has|contains) /i, '').trim();
}
