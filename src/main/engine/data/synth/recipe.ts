// Degradation recipes: JSON-serialisable descriptions of a chain of operations whose parameters are drawn
// from ranges by a seeded Rng. The same recipe + seed + image always gives the same degraded image.
import { z } from 'zod';
import { type RgbImage, cloneImage } from '../image';
import { Rng } from '../rng';
import * as ops from './ops';
import type { ResampleFilter } from './filters';
import type { ChromaSubsampling } from './ops';

/** A fixed value or a [min, max] range drawn uniformly. */
export type Range = number | readonly [number, number];

export const RangeSchema = z.union([
  z.number(),
  z
    .tuple([z.number(), z.number()])
    .refine(([lo, hi]) => lo <= hi, { message: 'a range is [min, max] with min <= max' }),
]);

const FilterSchema = z.enum(['nearest', 'bilinear', 'bicubic', 'area', 'lanczos']);

interface Common {
  /** Probability that the step runs at all (default 1). */
  p?: number;
}

export type DegradationStep = Common &
  (
    | { op: 'gaussianNoise'; sigma: Range; clip?: boolean }
    | { op: 'poissonNoise'; peak: Range }
    | { op: 'speckleNoise'; sigma: Range }
    | { op: 'saltPepper'; amount: Range; salt?: number }
    | { op: 'gaussianBlur'; sigma: Range }
    | { op: 'motionBlur'; length: Range; angle?: Range }
    | { op: 'downscale'; factor: Range; down?: ResampleFilter[]; up?: ResampleFilter[] }
    | { op: 'jpeg'; quality: Range; chroma?: ChromaSubsampling[] }
    | { op: 'fade'; amount: Range }
    | { op: 'yellowing'; amount: Range }
    | { op: 'sepia'; amount: Range }
    | { op: 'contrast'; amount: Range }
    | { op: 'brightness'; delta: Range }
    | { op: 'scratches'; count: Range; width?: [number, number]; opacity?: [number, number] }
    | { op: 'dust'; count: Range; radius?: [number, number]; opacity?: [number, number] }
    | { op: 'cracks'; count: Range; width?: [number, number]; opacity?: [number, number] }
    | { op: 'hairs'; count: Range; width?: [number, number]; opacity?: [number, number] }
    | { op: 'edgeWear'; depth: Range; opacity?: Range }
    | { op: 'monochrome' }
    | { op: 'specks'; count: Range; radius?: [number, number]; opacity?: [number, number] }
    | { op: 'flakes'; count: Range; radius?: [number, number]; opacity?: [number, number] }
    | { op: 'filmGrain'; amount: Range; size?: Range }
    | { op: 'vignette'; strength: Range; radius?: Range }
    | { op: 'chain'; steps: DegradationStep[]; shuffle?: boolean }
    | { op: 'oneOf'; steps: DegradationStep[]; weights?: number[] }
  );

/** A recipe is a step (usually a chain). */
export type DegradationRecipe = DegradationStep;

const Pair = z.tuple([z.number(), z.number()]);
const p = z.number().min(0).max(1).optional();

export const DegradationStepSchema: z.ZodType<DegradationStep> = z.lazy(() =>
  z.discriminatedUnion('op', [
    z.object({ op: z.literal('gaussianNoise'), p, sigma: RangeSchema, clip: z.boolean().optional() }).strict(),
    z.object({ op: z.literal('poissonNoise'), p, peak: RangeSchema }).strict(),
    z.object({ op: z.literal('speckleNoise'), p, sigma: RangeSchema }).strict(),
    z.object({ op: z.literal('saltPepper'), p, amount: RangeSchema, salt: z.number().min(0).max(1).optional() }).strict(),
    z.object({ op: z.literal('gaussianBlur'), p, sigma: RangeSchema }).strict(),
    z.object({ op: z.literal('motionBlur'), p, length: RangeSchema, angle: RangeSchema.optional() }).strict(),
    z
      .object({
        op: z.literal('downscale'),
        p,
        factor: RangeSchema,
        down: z.array(FilterSchema).min(1).optional(),
        up: z.array(FilterSchema).min(1).optional(),
      })
      .strict(),
    z.object({ op: z.literal('jpeg'), p, quality: RangeSchema, chroma: z.array(z.enum(['4:2:0', '4:4:4'])).min(1).optional() }).strict(),
    z.object({ op: z.literal('fade'), p, amount: RangeSchema }).strict(),
    z.object({ op: z.literal('yellowing'), p, amount: RangeSchema }).strict(),
    z.object({ op: z.literal('sepia'), p, amount: RangeSchema }).strict(),
    z.object({ op: z.literal('contrast'), p, amount: RangeSchema }).strict(),
    z.object({ op: z.literal('brightness'), p, delta: RangeSchema }).strict(),
    z.object({ op: z.literal('scratches'), p, count: RangeSchema, width: Pair.optional(), opacity: Pair.optional() }).strict(),
    z.object({ op: z.literal('dust'), p, count: RangeSchema, radius: Pair.optional(), opacity: Pair.optional() }).strict(),
    z.object({ op: z.literal('cracks'), p, count: RangeSchema, width: Pair.optional(), opacity: Pair.optional() }).strict(),
    z.object({ op: z.literal('hairs'), p, count: RangeSchema, width: Pair.optional(), opacity: Pair.optional() }).strict(),
    z.object({ op: z.literal('edgeWear'), p, depth: RangeSchema, opacity: RangeSchema.optional() }).strict(),
    z.object({ op: z.literal('monochrome'), p }).strict(),
    z.object({ op: z.literal('specks'), p, count: RangeSchema, radius: Pair.optional(), opacity: Pair.optional() }).strict(),
    z.object({ op: z.literal('flakes'), p, count: RangeSchema, radius: Pair.optional(), opacity: Pair.optional() }).strict(),
    z.object({ op: z.literal('filmGrain'), p, amount: RangeSchema, size: RangeSchema.optional() }).strict(),
    z.object({ op: z.literal('vignette'), p, strength: RangeSchema, radius: RangeSchema.optional() }).strict(),
    z.object({ op: z.literal('chain'), p, steps: z.array(DegradationStepSchema), shuffle: z.boolean().optional() }).strict(),
    z
      .object({
        op: z.literal('oneOf'),
        p,
        steps: z.array(DegradationStepSchema).min(1),
        weights: z.array(z.number().nonnegative()).optional(),
      })
      .strict(),
  ]),
);

/** One applied operation with the parameters actually drawn (for logs, reports and tests). */
export interface AppliedStep {
  op: string;
  params: Record<string, number | string | boolean>;
}

export function drawRange(range: Range, rng: Rng): number {
  if (typeof range === 'number') return range;
  return range[0] === range[1] ? range[0] : rng.uniform(range[0], range[1]);
}

/** Where the physical defects were drawn: one coverage value (0..1) per pixel, row-major. */
type DamageMask = Float32Array;

async function applyStep(image: RgbImage, step: DegradationStep, rng: Rng, trace: AppliedStep[], damage: DamageMask): Promise<RgbImage> {
  if (step.p !== undefined && step.p < 1 && !rng.chance(step.p)) return image;
  const log = (params: AppliedStep['params']): void => {
    trace.push({ op: step.op, params });
  };
  switch (step.op) {
    case 'gaussianNoise': {
      const sigma = drawRange(step.sigma, rng);
      const clip = step.clip ?? true;
      log({ sigma, clip });
      return ops.gaussianNoise(image, rng, sigma, clip);
    }
    case 'poissonNoise': {
      const peak = Math.max(1e-3, drawRange(step.peak, rng));
      log({ peak });
      return ops.poissonNoise(image, rng, peak);
    }
    case 'speckleNoise': {
      const sigma = drawRange(step.sigma, rng);
      log({ sigma });
      return ops.speckleNoise(image, rng, sigma);
    }
    case 'saltPepper': {
      const amount = drawRange(step.amount, rng);
      log({ amount });
      return ops.saltPepper(image, rng, amount, step.salt ?? 0.5);
    }
    case 'gaussianBlur': {
      const sigma = drawRange(step.sigma, rng);
      log({ sigma });
      return ops.gaussianBlur(image, sigma);
    }
    case 'motionBlur': {
      const length = drawRange(step.length, rng);
      const angle = drawRange(step.angle ?? [0, 180], rng);
      log({ length, angle });
      return ops.motionBlur(image, length, angle);
    }
    case 'downscale': {
      const factor = drawRange(step.factor, rng);
      const down = rng.pick<ResampleFilter>(step.down ?? ['area', 'bilinear', 'bicubic', 'nearest']);
      const up = rng.pick<ResampleFilter>(step.up ?? ['bilinear', 'bicubic']);
      log({ factor, down, up });
      return ops.downscale(image, factor, down, up);
    }
    case 'jpeg': {
      const quality = Math.round(drawRange(step.quality, rng));
      // Drawn only when the recipe lists choices, so older recipes give the same images for a seed.
      const chroma = step.chroma ? rng.pick(step.chroma) : '4:2:0';
      log({ quality, chroma });
      return ops.jpeg(image, quality, chroma);
    }
    case 'fade': {
      const amount = drawRange(step.amount, rng);
      log({ amount });
      return ops.fade(image, amount);
    }
    case 'yellowing': {
      const amount = drawRange(step.amount, rng);
      log({ amount });
      return ops.yellowing(image, amount);
    }
    case 'sepia': {
      const amount = drawRange(step.amount, rng);
      log({ amount });
      return ops.sepia(image, amount);
    }
    case 'contrast': {
      const amount = drawRange(step.amount, rng);
      log({ amount });
      return ops.contrast(image, amount);
    }
    case 'brightness': {
      const delta = drawRange(step.delta, rng);
      log({ delta });
      return ops.brightness(image, delta);
    }
    case 'scratches': {
      const count = drawRange(step.count, rng);
      log({ count });
      return ops.scratches(image, rng, { count, width: step.width ?? [0.6, 2.5], opacity: step.opacity ?? [0.4, 0.95] }, damage);
    }
    case 'dust': {
      const count = drawRange(step.count, rng);
      log({ count });
      return ops.blots(image, rng, { count, radius: step.radius ?? [0.8, 3], opacity: step.opacity ?? [0.5, 1], dark: 0.5 }, damage);
    }
    case 'specks': {
      const count = drawRange(step.count, rng);
      log({ count });
      return ops.blots(image, rng, { count, radius: step.radius ?? [0.3, 0.9], opacity: step.opacity ?? [0.5, 1], dark: 0.4 }, damage);
    }
    case 'flakes': {
      // Emulsion flaked off the print: wider, ragged patches, nearly always the paper's white.
      const count = drawRange(step.count, rng);
      log({ count });
      return ops.flakes(image, rng, { count, radius: step.radius ?? [1.5, 6], opacity: step.opacity ?? [0.75, 1] }, damage);
    }
    case 'cracks': {
      const count = drawRange(step.count, rng);
      log({ count });
      return ops.cracks(image, rng, { count, width: step.width ?? [0.6, 1.8], opacity: step.opacity ?? [0.5, 0.95] }, damage);
    }
    case 'hairs': {
      const count = drawRange(step.count, rng);
      log({ count });
      return ops.hairs(image, rng, { count, width: step.width ?? [0.5, 1.4], opacity: step.opacity ?? [0.5, 0.95] }, damage);
    }
    case 'edgeWear': {
      const depth = drawRange(step.depth, rng);
      const opacity = drawRange(step.opacity ?? [0.7, 1], rng);
      log({ depth, opacity });
      return ops.edgeWear(image, rng, { depth, opacity }, damage);
    }
    case 'monochrome': {
      log({});
      return ops.monochrome(image);
    }
    case 'filmGrain': {
      const amount = drawRange(step.amount, rng);
      const size = drawRange(step.size ?? [0.5, 1.2], rng);
      log({ amount, size });
      return ops.filmGrain(image, rng, amount, size);
    }
    case 'vignette': {
      const strength = drawRange(step.strength, rng);
      const radius = drawRange(step.radius ?? [0.3, 0.7], rng);
      log({ strength, radius });
      return ops.vignette(image, strength, radius, rng);
    }
    case 'chain': {
      const steps = step.shuffle ? rng.shuffle(step.steps) : step.steps;
      let current = image;
      for (const s of steps) current = await applyStep(current, s, rng, trace, damage);
      return current;
    }
    case 'oneOf': {
      const weights = step.weights ?? step.steps.map(() => 1);
      const total = weights.reduce((a, b) => a + b, 0);
      let r = rng.uniform(0, total);
      let chosen = step.steps[step.steps.length - 1]!;
      for (let i = 0; i < step.steps.length; i++) {
        r -= weights[i] ?? 0;
        if (r < 0) {
          chosen = step.steps[i]!;
          break;
        }
      }
      return applyStep(image, chosen, rng, trace, damage);
    }
  }
}

export interface SynthesisResult {
  image: RgbImage;
  applied: AppliedStep[];
  /** Where physical defects (scratches, dust, specks, flakes, cracks, hairs, worn edges) were drawn: coverage 0..1
   *  per pixel, width × height, row-major. All zero when the recipe draws none. */
  damage: DamageMask;
}

/** Degrades a copy of `clean` (which is left untouched) with `recipe`, drawing everything from `seed`. */
export async function synthesize(clean: RgbImage, recipe: DegradationRecipe, seed: number | Rng): Promise<SynthesisResult> {
  const rng = typeof seed === 'number' ? new Rng(seed) : seed;
  const applied: AppliedStep[] = [];
  const damage: DamageMask = new Float32Array(clean.width * clean.height);
  const image = await applyStep(cloneImage(clean), recipe, rng, applied, damage);
  return { image, applied, damage };
}

const DAMAGE_OPS = new Set<DegradationStep['op']>(['scratches', 'dust', 'specks', 'flakes', 'cracks', 'hairs', 'edgeWear']);

/** True when the recipe can draw physical damage (so a detector has something to learn from it). */
export function recipeDrawsDamage(step: DegradationStep): boolean {
  if (step.op === 'chain' || step.op === 'oneOf') return step.steps.some(recipeDrawsDamage);
  return DAMAGE_OPS.has(step.op);
}

/** True when the recipe can produce values outside [0, 1] (unclipped Gaussian noise). */
export function recipeMayExceedRange(step: DegradationStep): boolean {
  if (step.op === 'gaussianNoise') return step.clip === false;
  if (step.op === 'chain' || step.op === 'oneOf') return step.steps.some(recipeMayExceedRange);
  return false;
}
