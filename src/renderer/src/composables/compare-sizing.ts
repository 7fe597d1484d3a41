// How Compare lays two versions of a photo over each other when they differ in size: an upscaler's result
// is 2x, 4x ... the original. Both are drawn into the same frame (object-fit: contain in the same pane), so
// at any zoom a point of the original covers the same place as the result's pixels made from it and the
// slider lines up; the smaller one is enlarged by the browser, nearest neighbour (image-rendering:
// pixelated), so what is compared is the original's own pixels against what the model made of them.
// The frame is the larger image: zoom figures and 1:1 are in the result's pixels.
// Pure (no Vue, no DOM) so it is unit-tested.

export interface ImageSize {
  width: number;
  height: number;
}

export interface PairSizing {
  /** The size both are drawn at: the larger image's natural size. */
  frame: ImageSize;
  /** How many times the larger image is the smaller along each axis (1 for the same size). */
  scale: number;
  /** Which side the browser enlarges to the frame (none when the sizes are equal). */
  enlarged: 'before' | 'after' | null;
  /** "4× upscale" for a whole factor, "1.5× larger" otherwise; null for the same size. */
  label: string | null;
  /** False when the shapes differ (not the same aspect ratio within a pixel): the two cannot line up. */
  aligned: boolean;
}

function formatFactor(factor: number): string {
  const whole = Math.round(factor);
  return Math.abs(factor - whole) < 0.01 ? String(whole) : factor.toFixed(2).replace(/0$/, '');
}

/** Sizing of a before/after pair from the images' natural sizes; null until both are known. */
export function pairSizing(before: ImageSize | null, after: ImageSize | null): PairSizing | null {
  if (!before?.width || !before.height || !after?.width || !after.height) return null;
  const afterLarger = after.width * after.height >= before.width * before.height;
  const large = afterLarger ? after : before;
  const small = afterLarger ? before : after;
  const scale = large.width / small.width;
  // The small image enlarged by the width ratio must give the large one's height, within one small pixel.
  const aligned = Math.abs(small.height * scale - large.height) <= scale;
  const same = Math.abs(scale - 1) < 1e-9 && large.height === small.height;
  if (same) return { frame: { ...large }, scale: 1, enlarged: null, label: null, aligned: true };
  const factor = formatFactor(scale);
  const whole = !factor.includes('.');
  const label = afterLarger ? (whole ? `${factor}× upscale` : `${factor}× larger`) : `${factor}× smaller`;
  return { frame: { ...large }, scale, enlarged: afterLarger ? 'before' : 'after', label, aligned };
}
