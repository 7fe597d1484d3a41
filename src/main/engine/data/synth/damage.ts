// Physical damage of prints and negatives: scratches, dust and specks, flakes, cracks, hairs and worn edges.
// Each op paints a coverage mask and blends a tone through it; given a `damage` buffer (one float per pixel,
// 0..1) it also records there how visibly the defect changed the pixel (max-combined), so synthesis knows
// where every defect is and a detector can be trained on it. Other ops never move pixels, so the mask stays aligned through the chain.
import type { Rng } from '../rng';
import type { RgbImage } from '../image';


/** Damage counts are given per 512×512 pixels and scaled by the image's area, so crops and large scans
 *  get the same density. Fractions are rounded stochastically. */
function scaledCount(count: number, image: RgbImage, rng: Rng): number {
  const expected = (count * image.width * image.height) / (512 * 512);
  const whole = Math.floor(expected);
  return whole + (rng.chance(expected - whole) ? 1 : 0);
}

/** Paints soft discs into a coverage mask (max-combined). */
function stampDisc(mask: Float32Array, w: number, h: number, cx: number, cy: number, radius: number, alpha: number): void {
  const r = Math.max(0.35, radius);
  const x0 = Math.max(0, Math.floor(cx - r - 1));
  const x1 = Math.min(w - 1, Math.ceil(cx + r + 1));
  const y0 = Math.max(0, Math.floor(cy - r - 1));
  const y1 = Math.min(h - 1, Math.ceil(cy + r + 1));
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      const dist = Math.hypot(x - cx, y - cy);
      const cover = Math.min(1, Math.max(0, r + 0.5 - dist));
      const a = cover * alpha;
      const p = y * w + x;
      if (a > mask[p]!) mask[p] = a;
    }
  }
}

/** A change of this much (0..1 scale, largest channel) marks a pixel fully damaged; smaller changes mark it
 *  in proportion. A faint speck on a background of its own tone changes nothing a viewer (or a detector)
 *  could see, so it must not be labelled as damage: labels of invisible defects teach the detector noise. */
const VISIBLE_CHANGE = 0.12;

/** Blends `tone` (per-pixel grey level) into the image through the mask, and marks in `damage` how visibly
 *  each pixel changed (coverage times contrast, see VISIBLE_CHANGE). */
function composite(image: RgbImage, mask: Float32Array, tone: Float32Array, damage?: Float32Array): void {
  const d = image.data;
  for (let p = 0, i = 0; p < mask.length; p++, i += 3) {
    const a = mask[p]!;
    if (a <= 0) continue;
    const t = tone[p]!;
    if (damage) {
      const contrast = Math.max(Math.abs(t - d[i]!), Math.abs(t - d[i + 1]!), Math.abs(t - d[i + 2]!));
      const visible = Math.min(1, (a * contrast) / VISIBLE_CHANGE);
      if (visible > damage[p]!) damage[p] = visible;
    }
    d[i] = d[i]! * (1 - a) + t * a;
    d[i + 1] = d[i + 1]! * (1 - a) + t * a;
    d[i + 2] = d[i + 2]! * (1 - a) + t * a;
  }
}

export interface ScratchOptions {
  /** Scratches per 512×512 area. */
  count: number;
  /** Width range in px. */
  width: [number, number];
  /** Opacity range. */
  opacity: [number, number];
}

/** Scratches: long thin curves, mostly near-vertical (film transport) or at random angles (print handling),
 *  mostly bright (emulsion removed shows the white base), fading in and out along their length. */
export function scratches(image: RgbImage, rng: Rng, opts: ScratchOptions, damage?: Float32Array): RgbImage {
  const { width: w, height: h } = image;
  const n = scaledCount(opts.count, image, rng);
  if (n === 0) return image;
  return paintDefects(image, n, damage, (toneMask) => {
    const vertical = rng.chance(0.65);
    const angle = vertical ? Math.PI / 2 + rng.uniform(-0.25, 0.25) : rng.uniform(0, Math.PI);
    const length = rng.uniform(0.25, 1.1) * Math.max(w, h);
    const sx = rng.uniform(0, w);
    const sy = rng.uniform(0, h);
    const ex = sx + Math.cos(angle) * length;
    const ey = sy + Math.sin(angle) * length;
    const bend = rng.uniform(-0.12, 0.12) * length;
    const mx = (sx + ex) / 2 - Math.sin(angle) * bend;
    const my = (sy + ey) / 2 + Math.cos(angle) * bend;
    const width = rng.uniform(opts.width[0], opts.width[1]);
    const opacity = rng.uniform(opts.opacity[0], opts.opacity[1]);
    const bright = rng.chance(0.75);
    const level = bright ? rng.uniform(0.85, 1) : rng.uniform(0, 0.2);
    const steps = Math.ceil(length * 2);
    for (let k = 0; k <= steps; k++) {
      const t = k / steps;
      const u = 1 - t;
      const px = u * u * sx + 2 * u * t * mx + t * t * ex;
      const py = u * u * sy + 2 * u * t * my + t * t * ey;
      if (px < -width - 2 || py < -width - 2 || px > w + width + 2 || py > h + width + 2) continue;
      const along = Math.min(1, 6 * t * (1 - t) + 0.2); // fades at both ends
      stampDisc(toneMask, w, h, px, py, width / 2, opacity * along);
    }
    return level;
  });
}

export interface BlotOptions {
  /** Blots per 512×512 area. */
  count: number;
  /** Radius range in px. */
  radius: [number, number];
  /** Opacity range. */
  opacity: [number, number];
  /** Probability that a blot is dark (dust on a scanner) rather than bright (a white speck on a print). */
  dark: number;
}

/** Dust and specks: irregular soft blots made of a few overlapping discs. */
export function blots(image: RgbImage, rng: Rng, opts: BlotOptions, damage?: Float32Array): RgbImage {
  const { width: w, height: h } = image;
  const n = scaledCount(opts.count, image, rng);
  if (n === 0) return image;
  const mask = new Float32Array(w * h);
  const tone = new Float32Array(w * h);
  const one = new Float32Array(w * h);
  for (let s = 0; s < n; s++) {
    const cx = rng.uniform(0, w);
    const cy = rng.uniform(0, h);
    const radius = rng.uniform(opts.radius[0], opts.radius[1]);
    const opacity = rng.uniform(opts.opacity[0], opts.opacity[1]);
    const level = rng.chance(opts.dark) ? rng.uniform(0, 0.15) : rng.uniform(0.85, 1);
    const lobes = radius > 1.2 ? rng.intBetween(1, 3) : 1;
    // Touch only the blot's bounding box.
    const reach = radius * 2 + 2;
    const x0 = Math.max(0, Math.floor(cx - reach));
    const x1 = Math.min(w - 1, Math.ceil(cx + reach));
    const y0 = Math.max(0, Math.floor(cy - reach));
    const y1 = Math.min(h - 1, Math.ceil(cy + reach));
    for (let y = y0; y <= y1; y++) one.fill(0, y * w + x0, y * w + x1 + 1);
    for (let l = 0; l < lobes; l++) {
      const ox = l === 0 ? 0 : rng.uniform(-radius, radius);
      const oy = l === 0 ? 0 : rng.uniform(-radius, radius);
      stampDisc(one, w, h, cx + ox, cy + oy, radius * (l === 0 ? 1 : rng.uniform(0.4, 0.8)), opacity);
    }
    for (let y = y0; y <= y1; y++) {
      for (let x = x0; x <= x1; x++) {
        const p = y * w + x;
        const a = one[p]!;
        if (a > mask[p]!) {
          mask[p] = a;
          tone[p] = level;
        }
      }
    }
  }
  composite(image, mask, tone, damage);
  return image;
}

export interface FlakeOptions {
  /** Flakes per 512×512 area. */
  count: number;
  /** Radius range of the discs a flake is made of, in px. */
  radius: [number, number];
  /** Opacity range. */
  opacity: [number, number];
}

/**
 * Flakes: emulsion lost from the print, where the paper shows (nearly always white). Real ones are ragged,
 * elongated, bent or branched, not round: each is a wandering chain of 4 to 10 overlapping discs of varying
 * size, with a small satellite beside some of them for a torn edge.
 */
export function flakes(image: RgbImage, rng: Rng, opts: FlakeOptions, damage?: Float32Array): RgbImage {
  const { width: w, height: h } = image;
  const n = scaledCount(opts.count, image, rng);
  if (n === 0) return image;
  return paintDefects(image, n, damage, (one) => {
    const radius = rng.uniform(opts.radius[0], opts.radius[1]);
    const opacity = rng.uniform(opts.opacity[0], opts.opacity[1]);
    let x = rng.uniform(0, w);
    let y = rng.uniform(0, h);
    let angle = rng.uniform(0, 2 * Math.PI);
    const discs = rng.intBetween(4, 10);
    for (let d = 0; d < discs; d++) {
      const r = radius * rng.uniform(0.35, 1);
      stampDisc(one, w, h, x, y, r, opacity);
      if (rng.chance(0.4)) {
        const side = angle + (rng.chance(0.5) ? 1 : -1) * Math.PI / 2;
        stampDisc(one, w, h, x + Math.cos(side) * r, y + Math.sin(side) * r, r * rng.uniform(0.25, 0.5), opacity);
      }
      angle += rng.uniform(-1.2, 1.2);
      const step = radius * rng.uniform(0.5, 1.1);
      x += Math.cos(angle) * step;
      y += Math.sin(angle) * step;
    }
    return rng.chance(0.1) ? rng.uniform(0, 0.15) : rng.uniform(0.85, 1);
  });
}

/**
 * Paints `n` defects one by one: `draw` fills a fresh coverage buffer and returns the defect's grey level;
 * where defects overlap the most opaque one wins. Then blends them into the image and marks `damage`.
 */
function paintDefects(image: RgbImage, n: number, damage: Float32Array | undefined, draw: (coverage: Float32Array) => number): RgbImage {
  const size = image.width * image.height;
  const mask = new Float32Array(size);
  const tone = new Float32Array(size);
  const one = new Float32Array(size);
  for (let c = 0; c < n; c++) {
    one.fill(0);
    const level = draw(one);
    for (let p = 0; p < size; p++) {
      if (one[p]! > mask[p]!) {
        mask[p] = one[p]!;
        tone[p] = level;
      }
    }
  }
  composite(image, mask, tone, damage);
  return image;
}

/** Draws a polyline of discs from (x, y) along `angle`, turning by up to `wiggle` radians per step. */
function walk(
  mask: Float32Array,
  w: number,
  h: number,
  rng: Rng,
  start: { x: number; y: number; angle: number },
  opts: { length: number; width: number; opacity: number; wiggle: number; stepPx?: number },
): { x: number; y: number; angle: number }[] {
  const step = opts.stepPx ?? 0.7;
  const path: { x: number; y: number; angle: number }[] = [];
  let { x, y, angle } = start;
  for (let travelled = 0; travelled < opts.length; travelled += step) {
    angle += rng.uniform(-opts.wiggle, opts.wiggle);
    x += Math.cos(angle) * step;
    y += Math.sin(angle) * step;
    if (x < -4 || y < -4 || x > w + 4 || y > h + 4) break;
    // Thinner towards the tip, as a crack or hair tapers.
    const taper = 1 - 0.6 * (travelled / opts.length);
    stampDisc(mask, w, h, x, y, (opts.width * taper) / 2, opts.opacity);
    path.push({ x, y, angle });
  }
  return path;
}

export interface CrackOptions {
  /** Cracks per 512×512 area. */
  count: number;
  /** Width range in px. */
  width: [number, number];
  /** Opacity range. */
  opacity: [number, number];
}

/** Cracks and folds in the emulsion: jagged lines that branch, dark (dirt in the crack) or bright (the paper
 *  base showing through). */
export function cracks(image: RgbImage, rng: Rng, opts: CrackOptions, damage?: Float32Array): RgbImage {
  const { width: w, height: h } = image;
  const n = scaledCount(opts.count, image, rng);
  if (n === 0) return image;
  return paintDefects(image, n, damage, (one) => {
    const width = rng.uniform(opts.width[0], opts.width[1]);
    const opacity = rng.uniform(opts.opacity[0], opts.opacity[1]);
    const level = rng.chance(0.5) ? rng.uniform(0.85, 1) : rng.uniform(0, 0.25);
    const length = rng.uniform(0.15, 0.7) * Math.max(w, h);
    const trunk = walk(one, w, h, rng, { x: rng.uniform(0, w), y: rng.uniform(0, h), angle: rng.uniform(0, 2 * Math.PI) }, {
      length,
      width,
      opacity,
      wiggle: 0.35,
    });
    // Branches leave the trunk at a sharp angle and are shorter and thinner; some branch again.
    const branches = rng.intBetween(0, 4);
    for (let b = 0; b < branches && trunk.length > 0; b++) {
      const from = trunk[rng.int(trunk.length)]!;
      const side = rng.chance(0.5) ? 1 : -1;
      const twig = walk(one, w, h, rng, { ...from, angle: from.angle + side * rng.uniform(0.4, 1.2) }, {
        length: length * rng.uniform(0.15, 0.5),
        width: width * 0.7,
        opacity,
        wiggle: 0.4,
      });
      if (twig.length > 0 && rng.chance(0.4)) {
        const at = twig[rng.int(twig.length)]!;
        walk(one, w, h, rng, { ...at, angle: at.angle - side * rng.uniform(0.4, 1.2) }, { length: length * 0.15, width: width * 0.5, opacity, wiggle: 0.4 });
      }
    }
    return level;
  });
}

export interface HairOptions {
  /** Hairs and fibres per 512×512 area. */
  count: number;
  /** Width range in px. */
  width: [number, number];
  /** Opacity range. */
  opacity: [number, number];
}

/** Hairs and fibres on the scanner glass or the print: short, thin, curling lines, mostly dark. */
export function hairs(image: RgbImage, rng: Rng, opts: HairOptions, damage?: Float32Array): RgbImage {
  const { width: w, height: h } = image;
  const n = scaledCount(opts.count, image, rng);
  if (n === 0) return image;
  return paintDefects(image, n, damage, (one) => {
    const level = rng.chance(0.75) ? rng.uniform(0, 0.2) : rng.uniform(0.85, 1);
    walk(one, w, h, rng, { x: rng.uniform(0, w), y: rng.uniform(0, h), angle: rng.uniform(0, 2 * Math.PI) }, {
      length: rng.uniform(20, 140),
      width: rng.uniform(opts.width[0], opts.width[1]),
      opacity: rng.uniform(opts.opacity[0], opts.opacity[1]),
      wiggle: rng.uniform(0.05, 0.2),
      stepPx: 0.5,
    });
    return level;
  });
}

export interface EdgeWearOptions {
  /** Deepest reach of the wear into the photo, as a fraction of its shorter side. */
  depth: number;
  /** Opacity of the worn paper. */
  opacity: number;
}

/** Worn edges and corners: an irregular band of bare, light paper along some borders, deepest at corners. */
export function edgeWear(image: RgbImage, rng: Rng, opts: EdgeWearOptions, damage?: Float32Array): RgbImage {
  const { width: w, height: h } = image;
  const mask = new Float32Array(w * h);
  const tone = new Float32Array(w * h);
  const reach = opts.depth * Math.min(w, h);
  const level = rng.uniform(0.8, 0.97);
  // A ragged profile per border: smooth random bumps (value noise) so the wear looks torn, not ruled.
  const profile = (length: number): Float32Array => {
    const knots = Math.max(2, Math.ceil(length / 12));
    const values = Array.from({ length: knots + 1 }, () => rng.uniform(0, 1) ** 2);
    const out = new Float32Array(length);
    for (let i = 0; i < length; i++) {
      const t = (i / length) * knots;
      const k = Math.floor(t);
      const f = t - k;
      out[i] = values[k]! * (1 - f) + values[Math.min(knots, k + 1)]! * f;
    }
    return out;
  };
  const sides = [rng.chance(0.6), rng.chance(0.6), rng.chance(0.6), rng.chance(0.6)]; // top, right, bottom, left
  const top = profile(w);
  const bottom = profile(w);
  const left = profile(h);
  const right = profile(h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      // Corners wear most: the depth grows near both ends of each border.
      const cornerX = 1 + 1.5 * Math.max(0, 1 - Math.min(x, w - 1 - x) / (0.15 * w));
      const cornerY = 1 + 1.5 * Math.max(0, 1 - Math.min(y, h - 1 - y) / (0.15 * h));
      let inside = Infinity;
      if (sides[0]) inside = Math.min(inside, y - reach * top[x]! * cornerX);
      if (sides[2]) inside = Math.min(inside, h - 1 - y - reach * bottom[x]! * cornerX);
      if (sides[3]) inside = Math.min(inside, x - reach * left[y]! * cornerY);
      if (sides[1]) inside = Math.min(inside, w - 1 - x - reach * right[y]! * cornerY);
      if (inside >= 1) continue;
      const p = y * w + x;
      mask[p] = opts.opacity * Math.min(1, 1 - inside);
      tone[p] = level;
    }
  }
  composite(image, mask, tone, damage);
  return image;
}

/**
 * How strongly a pixel lies on a step edge or a thin line (a ridge: a rope, a seam, a crack in wood), and the
 * direction along it: for an edge, across its gradient; for a line, across its strongest curvature (the Hessian
 * at a 2-px scale). Thin lines are the detector's commonest false alarms: they look like scratches.
 */
function structureAt(lum: (p: number) => number, w: number, x: number, y: number): { strength: number; along: number } {
  const p = y * w + x;
  const gx = lum(p + 1) - lum(p - 1);
  const gy = lum(p + w) - lum(p - w);
  const dxx = lum(p + 2) + lum(p - 2) - 2 * lum(p);
  const dyy = lum(p + 2 * w) + lum(p - 2 * w) - 2 * lum(p);
  const dxy = (lum(p + 2 * w + 2) + lum(p - 2 * w - 2) - lum(p + 2 * w - 2) - lum(p - 2 * w + 2)) / 4;
  const mean = (dxx + dyy) / 2;
  const spread = Math.hypot((dxx - dyy) / 2, dxy);
  const ridge = Math.abs(mean) + spread;
  const edge = Math.abs(gx) + Math.abs(gy);
  if (edge >= ridge) return { strength: edge, along: Math.atan2(gx, -gy) };
  // The Hessian's eigenvalues are mean ± spread; the eigenvector of the larger in size points across the line
  // (that of mean + spread, at half the angle of (dxx - dyy, 2 dxy), when mean >= 0; the other one otherwise).
  const across = 0.5 * Math.atan2(2 * dxy, dxx - dyy) + (mean >= 0 ? 0 : Math.PI / 2);
  return { strength: ridge, along: across + Math.PI / 2 };
}

/** About 1% of a photo's pixels: more than the bundled detector's false alarms (0.4-0.5%), as much as its real damage. */
const DECOYS_PER_512 = 40;

/**
 * Decoys: marks shaped like a detector's false alarms, drawn into a mask only (the photo is not touched). A
 * damage filler that sees the original pixels (fill-unet with seesOriginal) is trained with them added to its
 * mask, with the original pixels as the target there, so it learns to keep what a detector flagged on an
 * undamaged photo: short strokes and specks anywhere, and short segments along the photo's strongest edges and
 * thin lines (ropes, seams, cracks in wood, frames, lettering: where the bundled detector's false alarms are).
 */
export function decoyMask(image: RgbImage, rng: Rng, count: number = DECOYS_PER_512): Float32Array {
  const { width: w, height: h, data } = image;
  const mask = new Float32Array(w * h);
  const n = scaledCount(count, image, rng);
  const lum = (p: number): number => 0.299 * data[p * 3]! + 0.587 * data[p * 3 + 1]! + 0.114 * data[p * 3 + 2]!;
  for (let k = 0; k < n; k++) {
    let cx = rng.uniform(1, w - 2);
    let cy = rng.uniform(1, h - 2);
    let angle = rng.uniform(0, Math.PI);
    if (w > 6 && h > 6 && rng.chance(0.5)) {
      // The strongest structure among a few random probes, and a stroke along it.
      let best = -1;
      for (let probe = 0; probe < 64; probe++) {
        const x = 2 + rng.int(w - 4);
        const y = 2 + rng.int(h - 4);
        const structure = structureAt(lum, w, x, y);
        if (structure.strength > best) [best, cx, cy, angle] = [structure.strength, x, y, structure.along];
      }
    }
    const radius = rng.uniform(0.5, 3);
    if (rng.chance(0.4)) {
      stampDisc(mask, w, h, cx, cy, radius * rng.uniform(1, 2), 1);
      continue;
    }
    const length = rng.uniform(6, 60);
    const steps = Math.ceil(length * 2);
    for (let s = 0; s <= steps; s++) {
      const t = s / steps - 0.5;
      stampDisc(mask, w, h, cx + Math.cos(angle) * t * length, cy + Math.sin(angle) * t * length, radius, 1);
    }
  }
  return mask;
}
