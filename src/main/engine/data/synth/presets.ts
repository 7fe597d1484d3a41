// Named degradation presets. `resolvePreset` turns a name like "gaussian:25" into a recipe.
import { readFile } from 'node:fs/promises';
import { PRESETS, type PresetInfo } from '#shared/presets';
import { StudioError } from '#shared/rpc/errors';
import { type DegradationRecipe, DegradationStepSchema } from './recipe';

/** Reproduction of a print (scanned or photographed): blur, lower resolution, noise and grain, in a random order. */
const REPRODUCTION: DegradationRecipe = {
  op: 'chain',
  shuffle: true,
  steps: [
    {
      op: 'oneOf',
      p: 0.7,
      weights: [0.85, 0.15],
      steps: [
        { op: 'gaussianBlur', sigma: [0.4, 2.2] },
        { op: 'motionBlur', length: [3, 9] },
      ],
    },
    { op: 'downscale', p: 0.4, factor: [1.5, 4] },
    {
      op: 'oneOf',
      p: 0.8,
      weights: [0.6, 0.25, 0.15],
      steps: [
        { op: 'gaussianNoise', sigma: [3, 35] },
        { op: 'poissonNoise', peak: [15, 300] },
        { op: 'speckleNoise', sigma: [0.03, 0.15] },
      ],
    },
    { op: 'filmGrain', p: 0.35, amount: [0.015, 0.06] },
  ],
};

/**
 * "old-photo": a random chain in the spirit of Bringing-Old-Photos-Back-to-Life (Wan et al., 2020), in the
 * order the damage happens physically:
 *  1. the print ages: its colours fade, yellow or turn sepia, it loses contrast and brightness, gets
 *     vignetted, scratched and dusty;
 *  2. it is reproduced (scanned, photographed): blur, lower resolution, noise and grain, in a random order;
 *  3. the scan is saved as a JPEG.
 * Every step has a probability, so some outputs are mild and a few are clean-looking.
 */
export const OLD_PHOTO: DegradationRecipe = {
  op: 'chain',
  steps: [
    {
      op: 'oneOf',
      p: 0.8,
      steps: [
        { op: 'fade', amount: [0.15, 0.7] },
        { op: 'yellowing', amount: [0.2, 0.9] },
        { op: 'sepia', amount: [0.3, 1] },
        {
          op: 'chain',
          steps: [
            { op: 'fade', amount: [0.1, 0.5] },
            { op: 'yellowing', amount: [0.2, 0.7] },
          ],
        },
      ],
    },
    { op: 'contrast', p: 0.5, amount: [0.1, 0.45] },
    { op: 'brightness', p: 0.3, delta: [-0.12, 0.08] },
    { op: 'vignette', p: 0.35, strength: [0.15, 0.55] },
    { op: 'scratches', p: 0.6, count: [1, 8] },
    { op: 'dust', p: 0.6, count: [5, 60] },
    { op: 'specks', p: 0.5, count: [20, 250] },
    REPRODUCTION,
    { op: 'jpeg', p: 0.7, quality: [30, 92] },
  ],
};

/**
 * The damage on a print's surface, in a random order; one time in five none at all, so clean photos teach
 * "nothing here". It comes after the photo's own blur, as on real scans where scratches are crisp over a soft
 * picture; blurring it away afterwards would leave labels of damage nobody can see.
 */
const SURFACE_DAMAGE: DegradationRecipe = {
  op: 'chain',
  p: 4 / 5,
  shuffle: true,
  steps: [
    { op: 'scratches', p: 0.6, count: [1, 10] },
    { op: 'dust', p: 0.6, count: [5, 80] },
    { op: 'specks', p: 0.5, count: [20, 300] },
    { op: 'cracks', p: 0.35, count: [1, 6] },
    { op: 'hairs', p: 0.35, count: [1, 6] },
    { op: 'edgeWear', p: 0.2, depth: [0.01, 0.06] },
  ],
};

/** The scan: a little blur and noise, saved as JPEG, one time in three saved again (the second-order model of BSRGAN / Real-ESRGAN). */
const SCAN: DegradationRecipe[] = [
  { op: 'gaussianBlur', p: 0.4, sigma: [0.3, 0.8] },
  { op: 'gaussianNoise', p: 0.4, sigma: [1, 8] },
  { op: 'jpeg', p: 0.6, quality: [50, 95] },
  {
    op: 'chain',
    p: 1 / 3,
    shuffle: true,
    steps: [
      { op: 'gaussianBlur', p: 0.3, sigma: [0.3, 0.7] },
      { op: 'gaussianNoise', p: 0.5, sigma: [1, 8] },
      { op: 'jpeg', quality: [50, 95] },
    ],
  },
];

/**
 * The photo as made: its own softness, resolution, noise and grain, in a random order. Two photos in five keep
 * their own sharpness: a detector that only ever saw soft pictures learns that anything crisp is a scratch,
 * and flags the edges and lettering of a sharp, clean photo.
 */
const PHOTO_AS_MADE: DegradationRecipe = { ...REPRODUCTION, p: 0.6 };

const SURFACE_DAMAGE_WITH_FLAKES: DegradationRecipe = { ...SURFACE_DAMAGE, steps: [...SURFACE_DAMAGE.steps, { op: 'flakes', p: 0.5, count: [3, 15] }] };

/**
 * "old-photo-damage": the damage a detector learns from, varied like real prints, in the order it happens:
 * the photo is made (black-and-white or colour, PHOTO_AS_MADE), the print ages (fades, yellows, loses
 * contrast), then its surface is damaged (SURFACE_DAMAGE), and finally it is scanned (SCAN). The synthesis
 * records where each defect went (SynthesisResult.damage).
 */
export const OLD_PHOTO_DAMAGE: DegradationRecipe = {
  op: 'chain',
  steps: [
    { op: 'monochrome', p: 0.3 },
    PHOTO_AS_MADE,
    {
      op: 'oneOf',
      p: 0.7,
      steps: [
        { op: 'fade', amount: [0.1, 0.6] },
        { op: 'yellowing', amount: [0.2, 0.8] },
        { op: 'sepia', amount: [0.3, 1] },
      ],
    },
    { op: 'contrast', p: 0.4, amount: [0.1, 0.4] },
    // Flakes (lost emulsion: ragged white patches up to ~20 px) joined on 2026-12-06, after the bundled detector
    // missed them on a real scan; the recipe before is docs/models/old-photo-damage-v1.recipe.json.
    SURFACE_DAMAGE_WITH_FLAKES,
    ...SCAN,
  ],
};

/**
 * "old-photo-restore": what the bundled old-photo restorer learns to undo. old-photo-damage without its colour
 * changes (black and white, fading, yellowing, sepia, contrast): no network can give a black-and-white print
 * its colours back, a restorer that learns to undo a yellowing also cools prints that never yellowed, and the
 * tone stage handles fading from the photo's own statistics. One photo in ten is left as it was, so that a
 * clean photo comes out unchanged. (Identical to docs/models/old-photo-restore.recipe.json, the file the
 * bundled model was trained with.)
 */
export const OLD_PHOTO_RESTORE: DegradationRecipe = {
  op: 'chain',
  steps: [{ op: 'chain', p: 0.9, steps: [PHOTO_AS_MADE, SURFACE_DAMAGE, ...SCAN] }],
};

/**
 * "old-photo-fill": what the damage filler learns to fill. old-photo-damage without its colour changes: the
 * filler is taught the clean photo under each defect, and a hole in a faded or sepia print filled with the
 * clean photo's colours would stand out from its surroundings (the tone stage treats the photo as a whole).
 * Every photo is damaged: an undamaged crop teaches a filler nothing.
 */
export const OLD_PHOTO_FILL: DegradationRecipe = { op: 'chain', steps: [PHOTO_AS_MADE, SURFACE_DAMAGE_WITH_FLAKES, ...SCAN] };

/**
 * Blind JPEG, as photos arrive: any quality from 5 to 95 (half the draws below 40, where the artifacts are),
 * either chroma subsampling, and one time in four saved again at another quality (re-saved or forwarded files).
 */
export const JPEG_BLIND: DegradationRecipe = {
  op: 'chain',
  steps: [
    {
      op: 'oneOf',
      steps: [
        { op: 'jpeg', quality: [5, 40], chroma: ['4:2:0', '4:2:0', '4:4:4'] },
        { op: 'jpeg', quality: [40, 95], chroma: ['4:2:0', '4:2:0', '4:4:4'] },
      ],
    },
    { op: 'jpeg', p: 0.25, quality: [10, 95] },
  ],
};

export { PRESETS, type PresetInfo };

function parseNumber(text: string | undefined, what: string, min: number, max: number): number {
  const value = Number(text);
  if (text === undefined || text.trim() === '' || !Number.isFinite(value) || value < min || value > max) {
    throw new StudioError('BAD_INPUT', `The preset needs a ${what} between ${min} and ${max}, got "${text ?? ''}".`);
  }
  return value;
}

/** Recipes for the built-in presets (synchronous; use resolvePreset to also accept recipe files). */
export function presetRecipe(name: string): DegradationRecipe {
  const [head, arg, ...extra] = name.trim().split(':');
  if (extra.length > 0) throw new StudioError('BAD_INPUT', `Unknown preset "${name}".`);
  switch (head) {
    case 'gaussian':
      return { op: 'gaussianNoise', sigma: parseNumber(arg, 'sigma (0–255 scale)', 0, 255), clip: false };
    case 'gaussian-blind':
      return { op: 'gaussianNoise', sigma: [0, 55], clip: false };
    case 'jpeg':
      return { op: 'jpeg', quality: parseNumber(arg, 'quality', 1, 100) };
    case 'jpeg-blind':
      return JPEG_BLIND;
    case 'poisson':
      return { op: 'poissonNoise', peak: parseNumber(arg, 'peak', 0.01, 1e6) };
    case 'blur':
      return { op: 'gaussianBlur', sigma: parseNumber(arg, 'sigma (px)', 0, 50) };
    case 'downscale':
      return { op: 'downscale', factor: parseNumber(arg, 'factor', 1, 16), down: ['bicubic'], up: ['bicubic'] };
    case 'old-photo':
      return OLD_PHOTO;
    case 'old-photo-damage':
      return OLD_PHOTO_DAMAGE;
    case 'old-photo-restore':
      return OLD_PHOTO_RESTORE;
    case 'old-photo-fill':
      return OLD_PHOTO_FILL;
    case 'none':
      return { op: 'chain', steps: [] };
    default:
      throw new StudioError(
        'BAD_INPUT',
        `Unknown preset "${name}". Presets: ${PRESETS.map((p) => p.name).join(', ')}.`,
      );
  }
}

/** A preset name, or a path to a JSON recipe file. */
export async function resolvePreset(name: string): Promise<DegradationRecipe> {
  if (!name.toLowerCase().endsWith('.json')) return presetRecipe(name);
  let text: string;
  try {
    text = await readFile(name, 'utf8');
  } catch (error) {
    throw new StudioError('NOT_FOUND', `Cannot read the recipe file ${name}: ${(error as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new StudioError('BAD_INPUT', `The recipe file ${name} is not valid JSON: ${(error as Error).message}`);
  }
  const parsed = DegradationStepSchema.safeParse(json);
  if (!parsed.success) {
    throw new StudioError('BAD_INPUT', `The recipe file ${name} is not a valid recipe.`, { issues: parsed.error.issues });
  }
  return parsed.data;
}
