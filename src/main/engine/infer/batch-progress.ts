// The counts of a running batch restore and the progress it reports from them: n of N, megapixels per second
// and an ETA that leave out the time spent paused.
import type { PauseGate } from './pause';
import type { WorkItem } from './batch-plan';
import type { FailedFile, FileOutcome, RestoreProgress } from './batch';

export class BatchTally {
  done = 0;
  failed: FailedFile[] = [];
  files: FileOutcome[] = [];
  megapixelsDone = 0;
  megapixelsRestored = 0;
  restoreSeconds = 0;
  private pausedMs = 0;
  private pausedSince: number | null;
  private readonly unsubscribe: (() => void) | undefined;

  constructor(
    private readonly started: number,
    readonly total: number,
    readonly skipped: number,
    public megapixelsTotal: number,
    /** Seconds the batch was estimated to take before it began (null: the model could not be timed). */
    private readonly estimatedSeconds: number | null,
    pause: PauseGate | undefined,
    private readonly onProgress: ((progress: RestoreProgress) => void) | undefined,
  ) {
    // Time spent paused does not count towards speed or ETA.
    this.pausedSince = pause?.isPaused ? Date.now() : null;
    this.unsubscribe = pause?.onChange((paused) => {
      if (paused) this.pausedSince = Date.now();
      else if (this.pausedSince !== null) {
        this.pausedMs += Date.now() - this.pausedSince;
        this.pausedSince = null;
      }
    });
  }

  /** Stops following the pause gate. */
  close(): void {
    this.unsubscribe?.();
  }

  busySeconds(): number {
    const pausedNow = this.pausedSince === null ? 0 : Date.now() - this.pausedSince;
    return Math.max(1e-3, (Date.now() - this.started - this.pausedMs - pausedNow) / 1000);
  }

  /** Reports the batch with `item` (1-based `index`) `fraction` done. */
  report(index: number, item: WorkItem, fraction: number, tile: number, phase: RestoreProgress['phase'] = 'restoring'): void {
    if (!this.onProgress) return;
    const mpDone = this.megapixelsDone + fraction * item.megapixels;
    const rate = mpDone / this.busySeconds();
    // Until some pixels are done there is no rate to go by: the estimate made before the batch stands in.
    const fallback = this.estimatedSeconds === null ? null : Math.max(0, this.estimatedSeconds - this.busySeconds());
    this.onProgress({
      phase,
      index,
      total: this.total,
      file: item.plan.file,
      fileFraction: fraction,
      done: this.done,
      skipped: this.skipped,
      failed: this.failed.length,
      megapixelsDone: mpDone,
      megapixelsTotal: this.megapixelsTotal,
      megapixelsPerSecond: rate,
      etaSeconds: rate > 0 ? Math.max(0, this.megapixelsTotal - mpDone) / rate : fallback,
      tile,
    });
  }
}
