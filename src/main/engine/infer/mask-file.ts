// The damage mask the repair stage filled, kept beside the outputs so Compare can lay it over the photo:
// <output folder>/.studio-masks/<output path>.png, red where pixels were replaced (alpha = how much). The
// folder's name starts with a dot, so listing the output folder as input (a second pass) skips it.
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import sharp from 'sharp';
import { writeFileAtomic } from '../../fs-atomic';

export const MASKS_DIR = '.studio-masks';

/** The mask's path relative to the output folder, for an output at `outputRel`. */
export function maskPathFor(outputRel: string): string {
  return join(MASKS_DIR, `${outputRel}.png`);
}

/** An RGBA PNG of the replaced share of each pixel (0-1): a red overlay, transparent where nothing changed. */
export async function encodeMask(replaced: Float32Array, width: number, height: number): Promise<Buffer> {
  const rgba = new Uint8Array(width * height * 4);
  for (let p = 0; p < replaced.length; p++) {
    rgba[p * 4] = 255;
    rgba[p * 4 + 1] = 32;
    rgba[p * 4 + 2] = 32;
    rgba[p * 4 + 3] = Math.round(Math.min(1, Math.max(0, replaced[p]!)) * 255);
  }
  return sharp(rgba, { raw: { width, height, channels: 4 } }).png({ compressionLevel: 9 }).toBuffer();
}

/** Writes the mask for the output `outputRel` of the batch in `out`; returns its relative path. */
export async function writeMask(out: string, outputRel: string, replaced: Float32Array, width: number, height: number): Promise<string> {
  const rel = maskPathFor(outputRel);
  const path = join(out, rel);
  await mkdir(dirname(path), { recursive: true });
  await writeFileAtomic(path, await encodeMask(replaced, width, height));
  return rel;
}
