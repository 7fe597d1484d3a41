// Image quality metrics: plain JS for evaluation, tfjs for validation and losses.
export { batchMetrics, mse, psnr, psnrFromMse, quantize8, squaredError, ssim, ssimPerChannel, type ImageShape, type MetricOptions } from './image-metrics';
export { psnrTf, quantize8Tf, ssimTf, type TfSsimOptions } from './tf-metrics';
export { addCounts, countMask, maskFromRgb, scoreCounts, type MaskCounts, type MaskScoreOptions, type MaskScores } from './mask';
export { gaussian1d, ssimWindowSize, SSIM_K1, SSIM_K2, SSIM_SIGMA, SSIM_WINDOW } from './gaussian';
