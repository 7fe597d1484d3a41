// Filling damaged pixels from their surroundings (the "fill" stage of old-photo repair): where a damage
// mask says a scratch, crack, hair or speck hides the photo, the pixels are replaced by an interpolation of
// the undamaged pixels around them; everywhere else the photo is left exactly as it was.
//
// The interpolation is pull-push (Gortler et al., "The Lumigraph", 1996): known pixels are averaged down a
// pyramid with their confidences (pull) until every level-pixel has support, then each level is filled from
// the one below it, keeping its own known pixels (push). It is exact on known pixels, smooth inside holes,
// costs O(pixels) and needs no model, so it works for thin defects (nearly all of them) at any photo size.
// It cannot invent texture inside a large blotch: that is what a learned, mask-conditioned filler is for.
import type { RgbImage } from './image';

/** fillDamage's defaults: a detector's "more likely than not", grown by one pixel. */
export const FILL_THRESHOLD = 0.5;
export const FILL_GROW = 1;

export interface FillOptions {
  /** Mask values at or above this are damage (0-1). Default 0.5: a detector's "more likely than not". */
  threshold?: number;
  /** Grow the damage by this many pixels: detectors and scans leave a defect's faint rim outside the mask. */
  grow?: number;
}

export interface FillResult {
  image: RgbImage;
  /** How much of each pixel was replaced (0-1): the grown, feathered mask that was used. */
  replaced: Float32Array;
  /** Share of the photo's pixels that were filled (replaced >= 0.5). */
  filledShare: number;
}

/** The binary damage mask grown by `grow` pixels (a square neighbourhood), then feathered by one pixel. */
export function fillMask(mask: Float32Array, width: number, height: number, threshold: number, grow: number): Float32Array {
  let hard: Uint8Array = new Uint8Array(width * height);
  for (let p = 0; p < hard.length; p++) hard[p] = mask[p]! >= threshold ? 1 : 0;
  // Dilation is separable for a square: rows, then columns.
  if (grow > 0) hard = dilateColumns(dilateRows(hard, width, height, grow), width, height, grow);
  const out = new Float32Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const p = y * width + x;
      if (hard[p]) {
        out[p] = 1;
        continue;
      }
      // A half-weight rim blends the fill into the photo instead of a hard seam.
      const near = (x > 0 && hard[p - 1]) || (x + 1 < width && hard[p + 1]) || (y > 0 && hard[p - width]) || (y + 1 < height && hard[p + width]);
      out[p] = near ? 0.5 : 0;
    }
  }
  return out;
}

function dilateRows(src: Uint8Array, w: number, h: number, r: number): Uint8Array {
  const out = new Uint8Array(src.length);
  for (let y = 0; y < h; y++) {
    const row = y * w;
    let last = -Infinity; // x of the last set pixel to the left
    for (let x = 0; x < w; x++) {
      if (src[row + x]) last = x;
      if (x - last <= r) out[row + x] = 1;
    }
    last = Infinity;
    for (let x = w - 1; x >= 0; x--) {
      if (src[row + x]) last = x;
      if (last - x <= r) out[row + x] = 1;
    }
  }
  return out;
}

function dilateColumns(src: Uint8Array, w: number, h: number, r: number): Uint8Array {
  const out = new Uint8Array(src.length);
  for (let x = 0; x < w; x++) {
    let last = -Infinity;
    for (let y = 0; y < h; y++) {
      if (src[y * w + x]) last = y;
      if (y - last <= r) out[y * w + x] = 1;
    }
    last = Infinity;
    for (let y = h - 1; y >= 0; y--) {
      if (src[y * w + x]) last = y;
      if (last - y <= r) out[y * w + x] = 1;
    }
  }
  return out;
}

interface Level {
  width: number;
  height: number;
  /** Colour, normalised (not premultiplied): meaningful where weight > 0. */
  value: Float32Array;
  /** Confidence 0-1 that `value` is known. */
  weight: Float32Array;
}

// Pull filter [1 3 3 1]/8 around the two source pixels of each coarse pixel: smoother than a 2x2 box, so
// fills of wide holes show no blocks.
const TAPS = [-1, 0, 1, 2];
const TAP_WEIGHTS = [1 / 8, 3 / 8, 3 / 8, 1 / 8];

function pull(fine: Level): Level {
  const width = Math.max(1, Math.ceil(fine.width / 2));
  const height = Math.max(1, Math.ceil(fine.height / 2));
  const value = new Float32Array(width * height * 3);
  const weight = new Float32Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let w = 0;
      let r = 0;
      let g = 0;
      let b = 0;
      for (let j = 0; j < 4; j++) {
        const sy = 2 * y + TAPS[j]!;
        if (sy < 0 || sy >= fine.height) continue;
        for (let i = 0; i < 4; i++) {
          const sx = 2 * x + TAPS[i]!;
          if (sx < 0 || sx >= fine.width) continue;
          const p = sy * fine.width + sx;
          const k = TAP_WEIGHTS[i]! * TAP_WEIGHTS[j]! * fine.weight[p]!;
          if (k === 0) continue;
          w += k;
          r += k * fine.value[p * 3]!;
          g += k * fine.value[p * 3 + 1]!;
          b += k * fine.value[p * 3 + 2]!;
        }
      }
      const q = y * width + x;
      if (w > 0) {
        value[q * 3] = r / w;
        value[q * 3 + 1] = g / w;
        value[q * 3 + 2] = b / w;
      }
      // The filter's full weight is 1 away from borders; a pixel with all its support known is fully known.
      weight[q] = Math.min(1, 2 * w);
    }
  }
  return { width, height, value, weight };
}

/** Fills `fine` where it is not fully known from the (already complete) coarser level, bilinearly. */
function push(fine: Level, coarse: Level): void {
  for (let y = 0; y < fine.height; y++) {
    const cy = Math.min(coarse.height - 1, Math.max(0, (y - 0.5) / 2));
    const y0 = Math.floor(cy);
    const y1 = Math.min(coarse.height - 1, y0 + 1);
    const fy = cy - y0;
    for (let x = 0; x < fine.width; x++) {
      const p = y * fine.width + x;
      const known = fine.weight[p]!;
      if (known >= 1) continue;
      const cx = Math.min(coarse.width - 1, Math.max(0, (x - 0.5) / 2));
      const x0 = Math.floor(cx);
      const x1 = Math.min(coarse.width - 1, x0 + 1);
      const fx = cx - x0;
      const a = (y0 * coarse.width + x0) * 3;
      const b = (y0 * coarse.width + x1) * 3;
      const c = (y1 * coarse.width + x0) * 3;
      const d = (y1 * coarse.width + x1) * 3;
      for (let ch = 0; ch < 3; ch++) {
        const up =
          (1 - fy) * ((1 - fx) * coarse.value[a + ch]! + fx * coarse.value[b + ch]!) +
          fy * ((1 - fx) * coarse.value[c + ch]! + fx * coarse.value[d + ch]!);
        fine.value[p * 3 + ch] = known * fine.value[p * 3 + ch]! + (1 - known) * up;
      }
      fine.weight[p] = 1;
    }
  }
}

/** Interpolates every pixel whose `known` weight is below 1 from the known pixels around it (pull-push). */
export function pullPush(image: RgbImage, known: Float32Array): RgbImage {
  const levels: Level[] = [{ width: image.width, height: image.height, value: image.data.slice(), weight: known.slice() }];
  while (levels.length < 32) {
    const top = levels[levels.length - 1]!;
    if (top.weight.every((w) => w >= 1) || (top.width === 1 && top.height === 1)) break;
    levels.push(pull(top));
  }
  // A photo that is damage everywhere has nothing to interpolate from: leave it as it is.
  const top = levels[levels.length - 1]!;
  if (top.weight.every((w) => w === 0)) return { width: image.width, height: image.height, data: image.data.slice() };
  for (let p = 0; p < top.weight.length; p++) top.weight[p] = 1;
  for (let i = levels.length - 2; i >= 0; i--) push(levels[i]!, levels[i + 1]!);
  return { width: image.width, height: image.height, data: levels[0]!.value };
}

/**
 * Replaces the damaged pixels of `image` (where `damage`, one value per pixel in 0-1, reaches the threshold,
 * grown and feathered) by an interpolation of the undamaged ones. Pixels away from damage are untouched.
 */
export function fillDamage(image: RgbImage, damage: Float32Array, options: FillOptions = {}): FillResult {
  const { width, height } = image;
  if (damage.length !== width * height) throw new Error(`the damage mask has ${damage.length} values for a ${width}x${height} photo`);
  const replaced = fillMask(damage, width, height, options.threshold ?? FILL_THRESHOLD, options.grow ?? FILL_GROW);
  const known = new Float32Array(replaced.length);
  let filled = 0;
  for (let p = 0; p < known.length; p++) {
    // The feathered rim is interpolated too (and then only half applied): its pixels may hold the defect's edge.
    known[p] = replaced[p]! > 0 ? 0 : 1;
    if (replaced[p]! >= 0.5) filled++;
  }
  const interpolated = filled === 0 ? image : pullPush(image, known);
  const out = new Float32Array(image.data.length);
  for (let p = 0; p < replaced.length; p++) {
    const a = replaced[p]!;
    for (let c = 0; c < 3; c++) {
      const i = p * 3 + c;
      out[i] = a === 0 ? image.data[i]! : (1 - a) * image.data[i]! + a * interpolated.data[i]!;
    }
  }
  return { image: { width, height, data: out }, replaced, filledShare: filled / replaced.length };
}
