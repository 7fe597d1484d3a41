// Pausing a long job: the job awaits `wait()` at safe points (before every tile); while paused it blocks
// there until resumed or cancelled.
import { StudioError } from '#shared/rpc/errors';

export class PauseGate {
  private paused = false;
  private waiters: (() => void)[] = [];
  private readonly listeners = new Set<(paused: boolean) => void>();

  get isPaused(): boolean {
    return this.paused;
  }

  pause(): void {
    if (this.paused) return;
    this.paused = true;
    for (const l of this.listeners) l(true);
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
    for (const l of this.listeners) l(false);
  }

  /** Called with the new state on every pause and resume; returns the unsubscribe function. */
  onChange(listener: (paused: boolean) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Resolves at once when running; otherwise when resumed. Rejects with CANCELLED if the signal fires. */
  async wait(signal?: AbortSignal): Promise<void> {
    if (!this.paused) return;
    await new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        this.waiters = this.waiters.filter((w) => w !== done);
        reject(new StudioError('CANCELLED', 'The operation was cancelled.'));
      };
      const done = (): void => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(done);
    });
  }
}
