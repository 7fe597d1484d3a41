// The Gaussian window of SSIM (Wang et al. 2004): 11 taps, sigma 1.5, normalised to sum 1. The 2-D window is
// the outer product of this 1-D window, so filtering is done separably.
export const SSIM_WINDOW = 11;
export const SSIM_SIGMA = 1.5;
export const SSIM_K1 = 0.01;
export const SSIM_K2 = 0.03;

/** Window size used for an image: 11, or the largest odd size that fits when the image is smaller. */
export function ssimWindowSize(height: number, width: number, preferred = SSIM_WINDOW): number {
  let size = Math.min(preferred, height, width);
  if (size % 2 === 0) size -= 1;
  return Math.max(1, size);
}

/** Normalised 1-D Gaussian weights (float64). */
export function gaussian1d(size: number, sigma = SSIM_SIGMA): Float64Array {
  const out = new Float64Array(size);
  const center = (size - 1) / 2;
  let sum = 0;
  for (let i = 0; i < size; i++) {
    const d = i - center;
    out[i] = Math.exp(-(d * d) / (2 * sigma * sigma));
    sum += out[i]!;
  }
  for (let i = 0; i < size; i++) out[i] = out[i]! / sum;
  return out;
}
