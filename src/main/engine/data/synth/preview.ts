// The train wizard's live preview of a degradation preset: a crop of one photo of the folder, and the same
// crop degraded, written as PNGs into the data folder (which the image route serves). Runs in the engine
// process: decoding a large photo and degrading it would otherwise hold up the window's process.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import type { SynthPreview } from '#shared/dataset';
import { StudioError } from '#shared/rpc/errors';
import { encodePng, loadRgbImage, type RgbImage } from '../image';
import { openDataset } from '../dataset';
import { cropRect } from '../patches';
import { resolvePreset } from './presets';
import { synthesize } from './recipe';
import { writeFileAtomic } from '../../../fs-atomic';

export async function synthPreview(
  previewsDir: string,
  options: { dir: string; preset: string; seed: number; size: number },
): Promise<SynthPreview> {
  const dataset = await openDataset(options.dir);
  if (dataset.items.length === 0) throw new StudioError('DATASET_EMPTY', `${options.dir} holds no photos to preview.`);
  const recipe = await resolvePreset(options.preset);
  const item = dataset.items[options.seed % dataset.items.length]!;
  const photo = await loadRgbImage(item.clean);
  const size = Math.min(options.size, photo.width, photo.height);
  const x0 = Math.floor((photo.width - size) / 2);
  const y0 = Math.floor((photo.height - size) / 2);
  const crop: RgbImage = { width: size, height: size, data: cropRect({ ...photo, scale: 1 }, x0, y0, size, size) };
  const { image, applied } = await synthesize(crop, recipe, options.seed);
  await mkdir(previewsDir, { recursive: true });
  const key = createHash('sha1').update(`${item.clean}\0${options.preset}\0${options.seed}\0${size}`).digest('hex').slice(0, 12);
  const clean = join(previewsDir, `${key}-clean.png`);
  const degraded = join(previewsDir, `${key}-degraded.png`);
  await writeFileAtomic(clean, await encodePng(crop));
  await writeFileAtomic(degraded, await encodePng(image));
  return {
    clean,
    degraded,
    applied: applied.map((step) => `${step.op}(${Object.entries(step.params).map(([k, v]) => `${k}=${typeof v === 'number' ? +v.toFixed(3) : v}`).join(', ')})`),
  };
}
