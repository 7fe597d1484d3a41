// Callers waiting for the next batch of a sampler (in this thread or from a worker): first come, first
// served; a caller's AbortSignal takes it out of the line with CANCELLED; failing or closing the sampler
// rejects everyone. Counts how often callers had to wait and for how long (the sampler's stats).
import { StudioError } from '#shared/rpc/errors';

export function cancelled(): StudioError {
  return new StudioError('CANCELLED', 'The operation was cancelled.');
}

interface Waiter<T> {
  resolve: (value: T) => void;
  reject: (error: Error) => void;
}

export class Waiters<T> {
  private readonly line: Waiter<T>[] = [];
  /** Times a caller found nothing ready, and the milliseconds they waited in all. */
  waits = 0;
  waitMs = 0;

  /** @param onLeave called after a caller left the line by its signal. */
  constructor(private readonly onLeave?: () => void) {}

  get length(): number {
    return this.line.length;
  }

  /** Joins the line (synchronously: `length` counts the caller as soon as this returns). */
  wait(signal?: AbortSignal): Promise<T> {
    this.waits++;
    const started = performance.now();
    return new Promise<T>((resolve, reject) => {
      const onAbort = (): void => {
        const i = this.line.indexOf(waiter);
        if (i >= 0) this.line.splice(i, 1);
        this.onLeave?.();
        reject(cancelled());
      };
      const waiter: Waiter<T> = {
        resolve: (value) => {
          signal?.removeEventListener('abort', onAbort);
          this.waitMs += performance.now() - started;
          resolve(value);
        },
        reject: (error) => {
          signal?.removeEventListener('abort', onAbort);
          reject(error);
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.line.push(waiter);
    });
  }

  /** Hands `value` to the first in line; false when nobody waits. */
  resolveNext(value: T): boolean {
    const waiter = this.line.shift();
    waiter?.resolve(value);
    return waiter !== undefined;
  }

  rejectAll(error: Error): void {
    for (const w of this.line.splice(0)) w.reject(error);
  }
}
