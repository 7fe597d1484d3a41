// The contract between the data pipeline (sampler) and the training loop.
// Pixels are float32 in [0, 1], NHWC, RGB (3 channels).

export interface PatchBatch {
  /** May leave [0, 1] when the recipe adds unclipped Gaussian noise (the denoising-benchmark convention). */
  degraded: Float32Array;
  clean: Float32Array;
  batch: number;
  height: number;
  width: number;
  channels: 3;
  /** Channels of `degraded` when it holds more than the photo: 4 for a filler (photo + damage mask). Absent means 3. */
  inputChannels?: number;
  /** Optional: the training epoch (0-based) the batch's last patches come from. */
  epoch?: number;
}

export interface PatchSampler {
  /** Resolves with the next batch; prefetching happens behind this call. */
  nextBatch(signal?: AbortSignal): Promise<PatchBatch>;
  /** Stops prefetching and frees buffers. */
  close(): Promise<void>;
}
