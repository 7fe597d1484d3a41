// Automatic tone and colour for faded photos: robust levels per channel (which also removes a colour cast, as
// the black and white points of each channel move to black and white), with a strength control.
//
// - Robust: the black and white points are percentiles of a histogram, so a few dust specks or a scratch do
//   not decide them, and they never move further than the photo asks (a well-exposed photo barely changes).
// - Monochrome and sepia photos stay so: their levels are set on the luminance, and every pixel is scaled
//   by one factor, which keeps its hue; `neutralize` turns a sepia print grey instead.
// - Never clips: the stretch runs through a soft knee near black and white, so values that were inside
//   (0, 1) stay inside, and detail in the darkest and brightest tones is compressed rather than cut off.
import type { RgbImage } from '../data/image';

export interface AutoToneOptions {
  /** 0 leaves the photo alone, 1 applies the full correction (default 1). */
  strength?: number;
  /** Share of pixels allowed beyond the black and the white point, per side (default 0.005). */
  tail?: number;
  /** For a monochrome or sepia photo: also remove its tint (default false). */
  neutralize?: boolean;
}

export interface AutoToneResult {
  image: RgbImage;
  /** What the photo was judged to be, and the black/white points used (per channel, or the luminance's). */
  kind: 'colour' | 'monochrome';
  black: number[];
  white: number[];
}

const BINS = 1024;
/** A photo is treated as monochrome (or toned: sepia, cyanotype) when its chroma barely varies. */
const MONOCHROME_CHROMA_SPREAD = 0.03;
/** The stretch never amplifies more than this, so noise in a nearly flat photo is not blown up. */
const MAX_GAIN = 4;
/** Darkest tones (the low tail) from which a photo counts as faded, and fully faded. */
const FADED_BLACK = [0.02, 0.1] as const;
/** Black points above this are not a faded black but a bright photo. */
const MAX_BLACK = 0.3;
/** Share of the brightest pixels whose colour sets the white balance, and the largest gain it may apply. */
const HIGHLIGHTS = 0.02;
const MAX_WB_GAIN = 1.5;
/** Highlights whose brightest channel exceeds the dimmest by less than this are taken as neutral. */
const MIN_CAST = 1.12;
/** Width of the soft knee at each end of the range. */
const KNEE = 0.02;

function luminance(r: number, g: number, b: number): number {
  return 0.299 * r + 0.587 * g + 0.114 * b;
}

/** Percentile `q` (0..1) of values in [0, 1], from a histogram. */
function percentiles(values: (i: number) => number, count: number, qs: number[]): number[] {
  const hist = new Uint32Array(BINS);
  for (let i = 0; i < count; i++) hist[Math.min(BINS - 1, Math.max(0, Math.floor(values(i) * BINS)))]!++;
  return qs.map((q) => {
    const target = q * count;
    let seen = 0;
    for (let b = 0; b < BINS; b++) {
      seen += hist[b]!;
      if (seen >= target) return (b + 0.5) / BINS;
    }
    return 1;
  });
}

/**
 * Maps x through the linear stretch (x - black) / (white - black), bent smoothly near 0 and 1 so the result
 * stays strictly inside (0, 1) for inputs inside (0, 1), and is monotone.
 */
function softStretch(x: number, black: number, white: number): number {
  const y = (x - black) / (white - black);
  if (y >= KNEE && y <= 1 - KNEE) return y;
  // Beyond the knee: an exponential approach to the end, matching value and slope at the knee.
  if (y < KNEE) return KNEE * Math.exp((y - KNEE) / KNEE);
  return 1 - KNEE * Math.exp((1 - KNEE - y) / KNEE);
}

/** Black and white points from the tails, limited so the gain stays below MAX_GAIN. */
function levels(low: number, high: number): { black: number; white: number } {
  let black = low;
  let white = high;
  const span = Math.max(white - black, 1 / MAX_GAIN);
  if (white - black < span) {
    const mid = (black + white) / 2;
    black = mid - span / 2;
    white = mid + span / 2;
  }
  // Never stretch the wrong way: a photo that already reaches black or white keeps that end.
  return { black: Math.min(black, 0.5), white: Math.max(white, 0.5) };
}

function isMonochrome(d: Float32Array, width: number, height: number): boolean {
  // The chroma direction ((r-g)/l, (b-g)/l) is one constant for grey and toned prints. It is measured on
  // 16x16 block means, so grain and noise (which add chroma to single pixels) average out.
  const block = 16;
  let n = 0;
  let sumA = 0;
  let sumB = 0;
  let sumAA = 0;
  let sumBB = 0;
  for (let by = 0; by + block <= height; by += block) {
    for (let bx = 0; bx + block <= width; bx += block) {
      let r = 0;
      let g = 0;
      let b = 0;
      for (let y = by; y < by + block; y++) {
        for (let x = bx; x < bx + block; x++) {
          const i = (y * width + x) * 3;
          r += d[i]!;
          g += d[i + 1]!;
          b += d[i + 2]!;
        }
      }
      const l = luminance(r, g, b) / (block * block);
      if (l < 0.05) continue;
      const a = (r - g) / (block * block) / l;
      const c = (b - g) / (block * block) / l;
      n++;
      sumA += a;
      sumB += c;
      sumAA += a * a;
      sumBB += c * c;
    }
  }
  if (n === 0) return true;
  const spread = Math.sqrt(Math.max(0, sumAA / n - (sumA / n) ** 2) + Math.max(0, sumBB / n - (sumB / n) ** 2));
  return spread < MONOCHROME_CHROMA_SPREAD;
}

/**
 * The correction for a photo, decided from its pixels (or a subsample: the decision needs only statistics)
 * and then applied pixel by pixel, so a large photo can be corrected row by row as it is restored.
 */
export interface TonePlan {
  kind: 'colour' | 'monochrome';
  strength: number;
  neutralize: boolean;
  /** Black and white points (luminance for monochrome, all channels for colour), and per-channel gains. */
  black: number;
  white: number;
  gains: [number, number, number];
}

/** Decides the correction for `image` (any size; a subsample of the photo is enough). */
export function planTone(image: RgbImage, options: AutoToneOptions = {}): TonePlan {
  const strength = Math.min(1, Math.max(0, options.strength ?? 1));
  const neutralize = options.neutralize ?? false;
  const tail = options.tail ?? 0.005;
  const { width, height, data: d } = image;
  const pixels = width * height;
  if (isMonochrome(d, width, height)) {
    const [low, high] = percentiles((i) => luminance(d[i * 3]!, d[i * 3 + 1]!, d[i * 3 + 2]!), pixels, [tail, 1 - tail]);
    const { black, white } = levels(low!, high!);
    return { kind: 'monochrome', strength, neutralize, black, white, gains: [1, 1, 1] };
  }
  // 1. One black and one white point for all channels (the darkest and brightest channel values), so a
  //    photo that reaches black and white somewhere is left as it is, and the balance between channels is
  //    the photo's own. A faded print, whose darkest value is grey, gets its range back.
  const [low] = percentiles((p) => Math.min(d[p * 3]!, d[p * 3 + 1]!, d[p * 3 + 2]!), pixels, [tail]);
  const [high] = percentiles((p) => Math.max(d[p * 3]!, d[p * 3 + 1]!, d[p * 3 + 2]!), pixels, [1 - tail]);
  // Fading lifts the blacks (the image washes towards the paper); a photo whose darkest tones are near
  // black is not faded, however dim or colourful it is, and is left alone (a dim interior stays dim).
  const faded = Math.min(1, Math.max(0, (low! - FADED_BLACK[0]) / (FADED_BLACK[1] - FADED_BLACK[0])));
  const full = levels(Math.min(low!, MAX_BLACK), high!);
  const black = faded * full.black;
  const white = 1 + faded * (full.white - 1);
  // 2. A colour cast shows in the highlights (the paper white and the brightest tones should be neutral):
  //    per-channel gains bring their mean colour to grey, only when the cast is clear, and limited so a
  //    sunset stays warm.
  const [bright] = percentiles((p) => luminance(d[p * 3]!, d[p * 3 + 1]!, d[p * 3 + 2]!), pixels, [1 - HIGHLIGHTS]);
  const sums = [0, 0, 0];
  for (let p = 0; p < pixels; p++) {
    if (luminance(d[p * 3]!, d[p * 3 + 1]!, d[p * 3 + 2]!) < bright! || Math.max(d[p * 3]!, d[p * 3 + 1]!, d[p * 3 + 2]!) >= 1) continue;
    for (let c = 0; c < 3; c++) sums[c]! += Math.max(1e-6, (d[p * 3 + c]! - black) / (white - black));
  }
  const top = Math.max(...sums);
  const cast = top > 0 ? top / Math.max(1e-6, Math.min(...sums)) : 1;
  // A cast comes with the fading (yellowed paper, faded dyes): it is corrected as far as the photo is faded.
  const gain = (v: number): number => (cast < MIN_CAST || v <= 0 ? 1 : 1 + faded * (Math.min(MAX_WB_GAIN, top / v) - 1));
  return { kind: 'colour', strength, neutralize, black, white, gains: [gain(sums[0]!), gain(sums[1]!), gain(sums[2]!)] };
}

/** Applies a plan to interleaved RGB floats (any number of pixels), into `out` (may be `rgb` itself). */
export function applyTone(plan: TonePlan, rgb: Float32Array, out: Float32Array = new Float32Array(rgb.length)): Float32Array {
  const { strength, black, white, gains } = plan;
  const mix = (from: number, to: number): number => from + strength * (to - from);
  for (let p = 0; p < rgb.length; p += 3) {
    const r = rgb[p]!;
    const g = rgb[p + 1]!;
    const b = rgb[p + 2]!;
    if (plan.kind === 'monochrome') {
      const l = luminance(r, g, b);
      const target = softStretch(l, black, white);
      if (plan.neutralize) {
        out[p] = mix(r, target);
        out[p + 1] = mix(g, target);
        out[p + 2] = mix(b, target);
        continue;
      }
      // One factor per pixel keeps its hue; where that would push a channel past 1, the factor is limited.
      let factor = l > 1e-6 ? target / l : 1;
      const peak = Math.max(r, g, b);
      if (peak * factor > 1 - 1e-4) factor = (1 - 1e-4) / Math.max(peak, 1e-6);
      out[p] = mix(r, r * factor);
      out[p + 1] = mix(g, g * factor);
      out[p + 2] = mix(b, b * factor);
      continue;
    }
    for (let c = 0; c < 3; c++) {
      const v = rgb[p + c]!;
      // Pixels already at pure black or white stay there (they were clipped before we saw them).
      const target = v <= 0 ? 0 : v >= 1 ? 1 : softStretch(((v - black) / (white - black)) * gains[c]!, 0, 1);
      out[p + c] = mix(v, target);
    }
  }
  return out;
}

/** Automatic levels and colour balance of a whole image; the input is left untouched. */
export function autoTone(image: RgbImage, options: AutoToneOptions = {}): AutoToneResult {
  const plan = planTone(image, options);
  const image2 = { width: image.width, height: image.height, data: applyTone(plan, image.data) };
  const whites = plan.gains.map((g) => plan.black + (plan.white - plan.black) / g);
  return { image: image2, kind: plan.kind, black: plan.kind === 'monochrome' ? [plan.black] : [plan.black, plan.black, plan.black], white: plan.kind === 'monochrome' ? [plan.white] : whites };
}
