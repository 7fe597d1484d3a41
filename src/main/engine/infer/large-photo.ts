// Photos too big to hold in memory: above LARGE_PHOTO_MEGAPIXELS the decoded pixels go to an uncompressed
// TIFF in a scratch folder (beside the output, not in a RAM-backed /tmp) and restoration reads them one tile
// at a time; the restored rows of each band of tiles are written as uncompressed TIFF strips that sharp
// composites over the original when it encodes. (Not libvips' own `.v` format: libvips memory-maps those
// whole, so every page read stays resident; a tiled TIFF is read tile by tile.) So what a restore holds in
// memory is a few tiles, the overlap rows between bands and one 8-bit strip (a band's height times the
// photo's width) plus libvips' own buffers, whatever the photo's size; the disk holds the rest. A 16000x16000
// photo held whole costs about 2.4 GB (decoded, restored, bands); this way the studio holds about 100 MB of
// it, and the process peaked at 1.6 GB (the engine itself, and memory glibc keeps once it is freed).
import { mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp, { type OutputInfo, type Sharp } from 'sharp';
import { tmpSibling } from '../../fs-atomic';
import type { PixelSource } from './pixel-source';

/** Photos above this size are restored from disk; below it, decoded and restored pixels stay in memory. */
export const LARGE_PHOTO_MEGAPIXELS = 48;

/** The size above which photos are restored from disk: STUDIO_LARGE_PHOTO_MP lowers it on a machine short of memory. */
export function largePhotoMegapixels(): number {
  const set = Number(process.env.STUDIO_LARGE_PHOTO_MP);
  return process.env.STUDIO_LARGE_PHOTO_MP !== undefined && Number.isFinite(set) && set >= 0 ? set : LARGE_PHOTO_MEGAPIXELS;
}

/** The decoded photo in the scratch folder (written by photo.ts with writeScratch). */
export const DECODED_FILE = 'decoded.tif';

/**
 * Writes a scratch image: an uncompressed TIFF in 256x256 tiles, so libvips reads back only the tiles a band
 * or an output region touches. (In strips, each file is one strip: composing a 16000x16000 photo from its
 * restored strips held every strip whole, +560 MB; in tiles, +68 MB.)
 */
export function writeScratch(image: Sharp, path: string): Promise<OutputInfo> {
  return image.tiff({ compression: 'none', tile: true, tileWidth: 256, tileHeight: 256 }).toFile(path);
}

/** sharp's options for our own scratch files (never a decompression bomb: we wrote them). */
const SCRATCH_READ = { limitInputPixels: false } as const;

/**
 * A scratch folder that is a temporary sibling of `output` (fs-atomic's naming), so what a run killed
 * mid-photo leaves is removed as any other stale temporary by the next run; in the system's temporary folder
 * when there is no output path.
 */
export async function makeScratchDir(output: string | undefined): Promise<string> {
  const dir = tmpSibling(output ?? join(tmpdir(), 'studio-large-photo'), 'tmp');
  await mkdir(dir, { recursive: true });
  return dir;
}

/**
 * Output rows per strip file. Strips are joined as a grid of one column, whose cells are all as high as the
 * highest, so every strip but the last has this height whatever the bands' heights.
 */
export const STRIP_ROWS = 512;

/** A decoded photo kept on disk: tiles are read on demand. */
export class DiskPixels {
  private strips = 0;

  constructor(
    /** Scratch folder: the decoded TIFF and the restored strips; removed by dispose(). */
    readonly dir: string,
    readonly width: number,
    readonly height: number,
    readonly channels: 3 | 4,
    readonly sixteenBit: boolean,
    readonly stripRows = STRIP_ROWS,
  ) {}

  get decodedPath(): string {
    return join(this.dir, DECODED_FILE);
  }

  /** sharp writes 8-bit sRGB unless told otherwise: 16-bit samples are read as 16-bit. */
  private asStored(image: Sharp): Sharp {
    return this.sixteenBit ? image.toColourspace('rgb16') : image;
  }

  /** The rectangle [x0, x0 + w) x [y0, y0 + h) (inside the photo) as interleaved samples of all channels. */
  async region(x0: number, y0: number, w: number, h: number): Promise<Uint8Array | Uint16Array> {
    const pipeline = this.asStored(sharp(this.decodedPath, SCRATCH_READ).extract({ left: x0, top: y0, width: w, height: h }));
    const data = await (this.sixteenBit ? pipeline.raw({ depth: 'ushort' }) : pipeline.raw()).toBuffer();
    if (!this.sixteenBit) return new Uint8Array(data.buffer, data.byteOffset, data.length);
    const aligned = data.byteOffset % 2 === 0 ? data : Buffer.from(data);
    return new Uint16Array(aligned.buffer, aligned.byteOffset, aligned.length / 2);
  }

  /**
   * A nearest-neighbour reduction to at most `maxPixels` (every k-th pixel, as pixel-source.ts's
   * sampleForStatistics strides an in-memory photo), for the tone stage's statistics.
   */
  async sample(maxPixels: number): Promise<PixelSource> {
    const stride = Math.max(1, Math.ceil(Math.sqrt((this.width * this.height) / maxPixels)));
    const width = Math.ceil(this.width / stride);
    const height = Math.ceil(this.height / stride);
    const pipeline = this.asStored(sharp(this.decodedPath, SCRATCH_READ).resize(width, height, { kernel: 'nearest', fit: 'fill' }));
    const data = await (this.sixteenBit ? pipeline.raw({ depth: 'ushort' }) : pipeline.raw()).toBuffer();
    const pixels = this.sixteenBit ? new Uint16Array(Buffer.from(data).buffer, 0, data.length / 2) : new Uint8Array(data.buffer, data.byteOffset, data.length);
    return { width, height, channels: this.channels, pixels, maxValue: this.sixteenBit ? 65535 : 255 };
  }

  /** Writes restored output samples (1 or 3 channels) as a strip file; returns its path. */
  async writeStrip(samples: Uint8Array | Uint16Array, width: number, height: number, channels: 1 | 3): Promise<string> {
    const path = join(this.dir, `strip-${this.strips++}.tif`);
    // A Uint16Array makes sharp read 16-bit raw samples (its typings only list Buffer); the colourspace says
    // how to keep them (without it, 16-bit RGB would be written as 8-bit).
    const sixteenBit = samples instanceof Uint16Array;
    const space = channels === 1 ? (sixteenBit ? 'grey16' : 'b-w') : sixteenBit ? 'rgb16' : 'srgb';
    await writeScratch(sharp(samples as unknown as Buffer, { raw: { width, height, channels }, ...SCRATCH_READ }).toColourspace(space), path);
    return path;
  }

  /**
   * The strips (all `stripRows` high but the last, top to bottom) joined into one `width` x `height` scratch
   * file; returns its path.
   */
  async joinStrips(paths: string[], width: number, height: number): Promise<string> {
    if (paths.length === 1) return paths[0]!;
    const path = join(this.dir, 'restored.tif');
    // libvips' arrayjoin makes every cell as high as the highest: the last strip's cell is padded, cropped here.
    const joined = sharp(paths, { join: { across: 1 }, ...SCRATCH_READ });
    await writeScratch(joined.extract({ left: 0, top: 0, width, height }), path);
    return path;
  }

  /**
   * The alpha band alone (at `width` x `height`, enlarged by nearest neighbour), 8 or 16 bits, as a file, in
   * one libvips pipeline (never held whole). 16-bit alpha written as 8-bit is libvips' conversion, which may
   * differ by one level from the in-memory path's rounding.
   */
  async alphaFile(width: number, height: number, sixteenBit: boolean): Promise<string> {
    const path = join(this.dir, 'alpha.tif');
    let image = sharp(this.decodedPath, SCRATCH_READ).extractChannel(3);
    if (width !== this.width || height !== this.height) image = image.resize(width, height, { kernel: 'nearest', fit: 'fill' });
    await writeScratch(image.toColourspace(sixteenBit ? 'grey16' : 'b-w'), path);
    return path;
  }

  async dispose(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }
}
