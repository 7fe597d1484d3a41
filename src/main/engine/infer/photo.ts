// Photos in and out of restoration, keeping what a photographer cares about:
// - colour values are read as stored ("native": no ICC conversion) and written back as they come out of the
//   model, with the original ICC profile attached, so a Display P3 or Adobe RGB photo keeps its colours
//   exactly when the model leaves them alone (CMYK files are the exception: converted to sRGB);
// - EXIF orientation is applied once: pixels are restored upright and written upright with orientation 1;
// - EXIF, XMP and IPTC metadata are kept;
// - alpha is passed through untouched (only RGB is restored); formats without alpha get the image flattened
//   on white;
// - grayscale photos are restored as RGB and written back with one channel;
// - 16-bit photos are restored from their 16-bit values and written as 16-bit where the format allows (PNG,
//   TIFF).
// Writing composites the restored pixels over the original decoded image with blend 'source': the pixels
// are replaced, and sharp carries the original's metadata to the output (keepMetadata). For an upscaler the
// original is first enlarged to the output size (nearest neighbour: its pixels are all replaced anyway), so
// the same pipeline keeps EXIF, XMP and ICC and the file header gets the new dimensions; alpha is enlarged
// by repeating each value scale x scale times (it is passed through, not restored).
// Photos above LARGE_PHOTO_MEGAPIXELS never exist whole in memory: they are decoded to disk and restored in
// strips (large-photo.ts); the steps are the same, each band at a time.
import { readFile, rm } from 'node:fs/promises';
import { extname, join } from 'node:path';
import sharp, { type OverlayOptions, type Sharp, type SharpOptions } from 'sharp';
import { StudioError } from '#shared/rpc/errors';
import { DEFAULT_QUALITY, OutputFormatSchema, type OutputFormatChoice } from '#shared/restore';
import { withSharpReason } from '../data/sharp-errors';
import { DECODED_FILE, DiskPixels, largePhotoMegapixels, makeScratchDir, writeScratch } from './large-photo';

/** Formats restoration writes. */
export type OutputFormat = 'jpeg' | 'png' | 'webp' | 'tiff' | 'avif';
/** What `--format` accepts: keep the input's format (where it can be written), or convert (shared/restore.ts's list). */
export type FormatChoice = OutputFormatChoice;
export const FORMAT_CHOICES: readonly FormatChoice[] = OutputFormatSchema.options;
export { DEFAULT_QUALITY };

const DECODE_OPTIONS: SharpOptions = { failOn: 'truncated' };

/** Output format when keeping the input's, by extension. Formats sharp cannot write become PNG or JPEG. */
const KEEP_BY_EXTENSION: Record<string, OutputFormat> = {
  '.jpg': 'jpeg',
  '.jpeg': 'jpeg',
  '.jpe': 'jpeg',
  '.jfif': 'jpeg',
  '.png': 'png',
  '.webp': 'webp',
  '.tif': 'tiff',
  '.tiff': 'tiff',
  '.avif': 'avif',
  '.heic': 'jpeg',
  '.heif': 'jpeg',
  '.gif': 'png',
  '.bmp': 'png',
};

const CANONICAL_EXTENSION: Record<OutputFormat, string> = {
  jpeg: '.jpg',
  png: '.png',
  webp: '.webp',
  tiff: '.tif',
  avif: '.avif',
};

const HAS_ALPHA: Record<OutputFormat, boolean> = { jpeg: false, png: true, webp: true, tiff: true, avif: true };
const HAS_16_BIT: Record<OutputFormat, boolean> = { jpeg: false, png: true, webp: false, tiff: true, avif: false };

export function outputFormatFor(inputName: string, choice: FormatChoice): OutputFormat {
  if (choice !== 'keep') return choice;
  return KEEP_BY_EXTENSION[extname(inputName).toLowerCase()] ?? 'png';
}

/** The output file name: the input's name when its format is kept, else the stem with the format's extension. */
export function outputNameFor(inputName: string, format: OutputFormat): string {
  const ext = extname(inputName);
  const keeps = KEEP_BY_EXTENSION[ext.toLowerCase()] === format;
  return keeps ? inputName : inputName.slice(0, inputName.length - ext.length) + CANONICAL_EXTENSION[format];
}

/** A decoded photo: upright, native colour values, 3 (RGB) or 4 (RGBA) channels of 8 or 16 bits. */
export interface Photo {
  /** The file's bytes as read; writing starts from them, so metadata comes from exactly what was decoded. */
  bytes: Buffer;
  width: number;
  height: number;
  /** sharp's name of the format (jpeg, png, webp, tiff, heif, gif ...). */
  format: string;
  channels: 3 | 4;
  /** Empty for a photo kept on disk (`disk`): read its rows from there. */
  pixels: Uint8Array | Uint16Array;
  /** Set for photos above LARGE_PHOTO_MEGAPIXELS: the decoded pixels on disk. dispose() removes them. */
  disk?: DiskPixels;
  /** 255 or 65535. */
  maxValue: number;
  sixteenBit: boolean;
  grayscale: boolean;
  alpha: boolean;
  /** CMYK input, converted to sRGB (its ICC profile cannot describe RGB pixels). */
  cmyk: boolean;
  /** EXIF orientation that was applied (1 = none). */
  orientation: number;
  /** Pages or frames in the file; only the first is restored. */
  pages: number;
  hasIcc: boolean;
}

export interface ReadPhotoOptions {
  /**
   * The output file the photo is restored to: a large photo's scratch folder is its temporary sibling (on the
   * output's disk; a RAM-backed /tmp would defeat it). Default: the system's temporary folder.
   */
  scratchFor?: string;
  /** Photos above this many megapixels are kept on disk (default largePhotoMegapixels()). */
  largeMegapixels?: number;
  /** Output rows per strip file of a photo kept on disk (default STRIP_ROWS). */
  stripRows?: number;
}

/** Decodes a photo file; a large one to disk (call disposePhoto when done with it). */
export async function readPhoto(path: string, options: ReadPhotoOptions = {}): Promise<Photo> {
  return decodePhoto(await readFile(path), options);
}

export function decodePhoto(bytes: Buffer, options: ReadPhotoOptions = {}): Promise<Photo> {
  return withSharpReason(() => decodePhotoOnce(bytes, options));
}

/** Frees what a photo holds outside memory (a large photo's scratch folder). */
export async function disposePhoto(photo: Photo): Promise<void> {
  await photo.disk?.dispose();
}

async function decodePhotoOnce(bytes: Buffer, options: ReadPhotoOptions): Promise<Photo> {
  const meta = await sharp(bytes, DECODE_OPTIONS).metadata();
  const depth = meta.depth ?? 'uchar';
  const sixteenBit = depth !== 'uchar' && depth !== 'char';
  const cmyk = meta.space === 'cmyk';
  const grayscale = meta.space === 'b-w' || meta.space === 'grey16' || (meta.channels ?? 3) <= 2;
  const pipeline = sharp(bytes, DECODE_OPTIONS).autoOrient();
  if (!cmyk) pipeline.keepIccProfile(); // no conversion to sRGB: the values as stored
  pipeline.toColourspace(sixteenBit ? 'rgb16' : 'srgb');
  const common = {
    bytes,
    format: meta.format ?? 'unknown',
    maxValue: sixteenBit ? 65535 : 255,
    sixteenBit,
    grayscale,
    cmyk,
    orientation: meta.orientation ?? 1,
    pages: meta.pages ?? 1,
    hasIcc: Boolean(meta.icc) && !cmyk,
  };
  const megapixels = ((meta.width ?? 0) * (meta.height ?? 0)) / 1e6;
  if (megapixels > (options.largeMegapixels ?? largePhotoMegapixels())) {
    const dir = await makeScratchDir(options.scratchFor);
    try {
      const info = await writeScratch(pipeline, join(dir, DECODED_FILE));
      if (info.channels !== 3 && info.channels !== 4) throw new Error(`decoded to ${info.channels} channels instead of RGB or RGBA`);
      const disk = new DiskPixels(dir, info.width, info.height, info.channels, sixteenBit, options.stripRows);
      const pixels = sixteenBit ? new Uint16Array(0) : new Uint8Array(0);
      return { ...common, width: info.width, height: info.height, channels: info.channels, pixels, disk, alpha: info.channels === 4 };
    } catch (error) {
      await rm(dir, { recursive: true, force: true });
      throw error;
    }
  }
  const { data, info } = await (sixteenBit ? pipeline.raw({ depth: 'ushort' }) : pipeline.raw()).toBuffer({ resolveWithObject: true });
  if (info.channels !== 3 && info.channels !== 4) {
    throw new Error(`decoded to ${info.channels} channels instead of RGB or RGBA`);
  }
  let pixels: Uint8Array | Uint16Array;
  if (sixteenBit) {
    const aligned = data.byteOffset % 2 === 0 ? data : Buffer.from(data);
    pixels = new Uint16Array(aligned.buffer, aligned.byteOffset, aligned.length / 2);
  } else {
    pixels = new Uint8Array(data.buffer, data.byteOffset, data.length);
  }
  return { ...common, width: info.width, height: info.height, channels: info.channels, pixels, alpha: info.channels === 4 };
}

/** Output floats of a rectangle: h rows of w x 3. */
interface OutputRegion {
  x0: number;
  y0: number;
  w: number;
  h: number;
  pixels: Float32Array;
}

/** Input pixels (all channels) of the rectangle starting at input pixel (x0, y0), `width` pixels wide. */
interface AlphaSource {
  pixels: Photo['pixels'];
  x0: number;
  y0: number;
  width: number;
}

/**
 * The restored pixels of one photo, filled region by region (restoration streams finished pieces here) and then
 * encoded in the output format with the original's metadata.
 */
export class RestoredPhoto {
  readonly format: OutputFormat;
  /** Output samples: 16-bit when the photo is and the format allows. */
  readonly sixteenBit: boolean;
  /** 1 for grayscale photos, else 3. */
  readonly colourChannels: 1 | 3;
  readonly keepAlpha: boolean;
  /** Output size: the photo's times the model's scale. */
  readonly width: number;
  readonly height: number;
  /** The restored samples of an in-memory photo; null for a photo on disk, whose rows go to strip files. */
  private readonly colour: Uint8Array | Uint16Array | null;
  private readonly strips: { path: string; top: number }[] = [];
  /** A photo on disk: output rows [top, top + rows) being filled; rowsDone writes them as strip files. */
  private pending: { top: number; rows: number; samples: Uint8Array | Uint16Array };
  private readonly max: number;

  constructor(
    readonly photo: Photo,
    format: OutputFormat,
    readonly scale = 1,
  ) {
    this.format = format;
    this.sixteenBit = photo.sixteenBit && HAS_16_BIT[format];
    this.colourChannels = photo.grayscale ? 1 : 3;
    this.keepAlpha = photo.alpha && HAS_ALPHA[format];
    this.max = this.sixteenBit ? 65535 : 255;
    this.width = photo.width * scale;
    this.height = photo.height * scale;
    this.colour = photo.disk ? null : this.samples(this.width * this.height * this.colourChannels);
    this.pending = { top: 0, rows: 0, samples: this.samples(0) };
  }

  private samples(size: number): Uint8Array | Uint16Array {
    return this.sixteenBit ? new Uint16Array(size) : new Uint8Array(size);
  }

  /**
   * Stores restored RGB pixels of the output rectangle at (x0, y0), w x h, given as floats in [0, 1]. For a
   * photo on disk they go into the strip being filled (the rows of one band across the width), which
   * rowsDone writes to a file.
   */
  async setRegion(x0: number, y0: number, w: number, h: number, pixels: Float32Array): Promise<void> {
    const { disk } = this.photo;
    const flatten = this.photo.alpha && !this.keepAlpha;
    if (!disk) {
      this.fill(this.colour!, 0, { x0, y0, w, h, pixels }, flatten ? { pixels: this.photo.pixels, x0: 0, y0: 0, width: this.photo.width } : null);
      return;
    }
    // The pending rows grow to cover each new band's rows (what is left of the last band, below its last
    // whole strip, is kept at the top).
    const pending = this.pending;
    if (y0 < pending.top) throw new Error(`rows from ${y0} were given after rows up to ${pending.top - 1} were written`);
    if (y0 + h > pending.top + pending.rows) {
      const grown = this.samples((y0 + h - pending.top) * this.width * this.colourChannels);
      grown.set(pending.samples);
      this.pending = { top: pending.top, rows: y0 + h - pending.top, samples: grown };
    }
    let alpha: AlphaSource | null = null;
    if (flatten) {
      // The input pixels under this output rectangle (an upscaler's output covers fewer input pixels).
      const ix0 = Math.floor(x0 / this.scale);
      const iy0 = Math.floor(y0 / this.scale);
      const iw = Math.floor((x0 + w - 1) / this.scale) + 1 - ix0;
      const ih = Math.floor((y0 + h - 1) / this.scale) + 1 - iy0;
      alpha = { pixels: await disk.region(ix0, iy0, iw, ih), x0: ix0, y0: iy0, width: iw };
    }
    this.fill(this.pending.samples, this.pending.top, { x0, y0, w, h, pixels }, alpha);
  }

  /**
   * Every output row above `y` has been given: a photo on disk writes the whole strips among them as files
   * (all strips are disk.stripRows high but the last, so encoding can join them as a grid of one column).
   */
  async rowsDone(y: number): Promise<void> {
    const { disk } = this.photo;
    if (!disk) return;
    const perStrip = this.width * this.colourChannels;
    let { top, rows, samples } = this.pending;
    while (y - top >= disk.stripRows || (y === this.height && y > top)) {
      const n = Math.min(disk.stripRows, y - top);
      this.strips.push({ path: await disk.writeStrip(samples.subarray(0, n * perStrip), this.width, n, this.colourChannels), top });
      samples = samples.slice(n * perStrip);
      top += n;
      rows -= n;
    }
    this.pending = { top, rows, samples };
  }

  /**
   * Quantises a rectangle of output floats into `out`, a buffer of whole output rows whose first row is
   * output row `outTop`; `alpha` (the input's pixels under it, when the format has no alpha) flattens the
   * colour over white.
   */
  private fill(out: Uint8Array | Uint16Array, outTop: number, region: OutputRegion, alpha: AlphaSource | null): void {
    const { channels, maxValue } = this.photo;
    const { scale } = this;
    const { x0, y0, w, h, pixels } = region;
    const max = this.max;
    for (let y = 0; y < h; y++) {
      const rowBase = (y0 + y - outTop) * this.width + x0;
      if (!alpha && this.colourChannels === 3) {
        // The common case (RGB out, nothing to composite): the row is laid out as the floats are.
        const first = rowBase * 3;
        const src = y * w * 3;
        for (let i = 0; i < w * 3; i++) out[first + i] = quantize(pixels[src + i]!, max);
        continue;
      }
      for (let x = 0; x < w; x++) {
        const p = rowBase + x;
        const src = (y * w + x) * 3;
        let r = pixels[src]!;
        let g = pixels[src + 1]!;
        let b = pixels[src + 2]!;
        if (alpha) {
          const inputPixel = (Math.floor((y0 + y) / scale) - alpha.y0) * alpha.width + Math.floor((x0 + x) / scale) - alpha.x0;
          const a = alpha.pixels[inputPixel * channels + 3]! / maxValue;
          r = r * a + 1 - a;
          g = g * a + 1 - a;
          b = b * a + 1 - a;
        }
        if (this.colourChannels === 1) {
          out[p] = quantize((r + g + b) / 3, max);
        } else {
          out[p * 3] = quantize(r, max);
          out[p * 3 + 1] = quantize(g, max);
          out[p * 3 + 2] = quantize(b, max);
        }
      }
    }
  }

  /** Encodes the restored pixels over the original, keeping its metadata. */
  async encode(quality = DEFAULT_QUALITY): Promise<Buffer> {
    return (await this.encoder(quality)).toBuffer();
  }

  /** Encodes straight into a file (a large photo's output is never held whole; write to a temporary name). */
  async encodeToFile(path: string, quality = DEFAULT_QUALITY): Promise<void> {
    await (await this.encoder(quality)).toFile(path);
  }

  /** The sharp pipeline that writes the output: the restored pixels over the original, its metadata kept. */
  private async encoder(quality: number): Promise<Sharp> {
    const { photo } = this;
    const space = this.sixteenBit ? (photo.grayscale ? 'grey16' : 'rgb16') : photo.grayscale ? 'b-w' : 'srgb';
    const raw = { width: this.width, height: this.height, channels: this.colourChannels };
    // Pass 1: the restored colour over the upright original (composite adds an alpha band: removed again).
    let image = sharp(photo.bytes, DECODE_OPTIONS).autoOrient();
    if (this.scale !== 1) image = image.resize(this.width, this.height, { kernel: 'nearest', fit: 'fill' });
    // Our own pixels, not a file: sharp's decompression-bomb limit (268 MP) must not stop a 4x of a 20 MP photo.
    // A Uint16Array makes sharp read 16-bit raw samples (its typings only list Buffer). Strips are opaque, so
    // 'over' puts each one's pixels in place ('source' would clear what lies outside the strip).
    // A photo on disk: its strips joined into one scratch file first (composited one by one, each strip cost
    // libvips ~25 MB at 16000 pixels wide: 400 MB for a 16000x16000 photo's; joined, ~90 MB in all).
    const overlays: OverlayOptions[] = this.colour
      ? [{ input: this.colour as unknown as Buffer, raw, blend: 'source', limitInputPixels: false }]
      : [{ input: await photo.disk!.joinStrips(this.strips.map((s) => s.path), this.width, this.height), top: 0, left: 0, blend: 'over', limitInputPixels: false }];
    image = image.pipelineColourspace(space).composite(overlays).removeAlpha().toColourspace(space);
    image = keepMetadata(image, photo);
    if (!this.keepAlpha) return encodeAs(image, this.format, quality, Boolean(photo.disk));
    // Pass 2: the original alpha joined back, untouched (compositing it would round colours under partial
    // transparency). The intermediate is an uncompressed PNG, which carries EXIF, XMP and the ICC profile;
    // for a photo on disk it and the alpha band are files too.
    const { disk } = photo;
    let intermediate: Buffer | string;
    let alpha: Buffer | string;
    if (disk) {
      intermediate = join(disk.dir, 'intermediate.png'); // PNG, not a scratch TIFF: it must carry EXIF and XMP
      await image.png({ compressionLevel: 0 }).toFile(intermediate);
      alpha = await disk.alphaFile(this.width, this.height, this.sixteenBit);
    } else {
      intermediate = await image.png({ compressionLevel: 0 }).toBuffer();
      alpha = this.alphaChannel() as unknown as Buffer;
    }
    let joined = sharp(intermediate, { limitInputPixels: false })
      .joinChannel(alpha, typeof alpha === 'string' ? { limitInputPixels: false } : { raw: { width: this.width, height: this.height, channels: 1 }, limitInputPixels: false })
      .toColourspace(space);
    joined = keepMetadata(joined, photo);
    return encodeAs(joined, this.format, quality, Boolean(photo.disk));
  }

  private alphaChannel(): Uint8Array | Uint16Array {
    const { channels, pixels } = this.photo;
    const { width, height, scale } = this;
    const toEight = this.photo.sixteenBit && !this.sixteenBit;
    const out = this.samples(width * height);
    for (let y = 0; y < height; y++) {
      const row = Math.floor(y / scale) * this.photo.width;
      for (let x = 0; x < width; x++) {
        const a = pixels[(row + Math.floor(x / scale)) * channels + 3]!;
        out[y * width + x] = toEight ? Math.round(a / 257) : a;
      }
    }
    return out;
  }
}

function quantize(v: number, max: number): number {
  const q = Math.round(v * max);
  return q < 0 ? 0 : q > max ? max : q;
}

function keepMetadata(image: Sharp, photo: Photo): Sharp {
  // A CMYK profile cannot describe the RGB output: keep the rest, leave the output untagged (sRGB).
  return photo.cmyk ? image.keepExif().keepXmp() : image.keepMetadata();
}

/**
 * Sets the output format. `streaming` (a large photo): JPEG without optimised Huffman tables, which libjpeg
 * can only build from every coefficient of the image held at once (W x H x 6 bytes: 1.5 GB at 256 MP); the
 * file comes out a few per cent larger. WebP and AVIF encoders hold the whole picture whatever is done.
 */
function encodeAs(image: Sharp, format: OutputFormat, quality: number, streaming = false): Sharp {
  switch (format) {
    case 'jpeg':
      image.jpeg({ quality, chromaSubsampling: quality >= 90 ? '4:4:4' : '4:2:0', optimiseCoding: !streaming });
      break;
    case 'png':
      image.png({ compressionLevel: 6 });
      break;
    case 'webp':
      image.webp({ quality });
      break;
    case 'tiff':
      image.tiff({ compression: 'lzw', predictor: 'horizontal' });
      break;
    case 'avif':
      image.avif({ quality });
      break;
    default:
      throw new StudioError('BAD_INPUT', `Cannot write the format ${String(format)}.`);
  }
  return image;
}
