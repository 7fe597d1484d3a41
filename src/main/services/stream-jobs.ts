// Long engine work (training, evaluation, restoring) as app jobs: the job starts an engine stream, turns its
// events into job progress, keeps them so a window that opens (or reloads) later can replay them, and
// cancelling the job ends the stream (which aborts the engine's work).
import type { Job } from '#shared/contract';
import { StudioError } from '#shared/rpc/errors';
import type { EventDataOf, EventName, ParamsOf } from '#shared/rpc/protocol';
import type { EngineContract } from '../engine/contract';
import type { EngineHost } from './engine-host';
import type { JobRegistry } from './job-registry';

/** How many per-batch (or per-file) events are kept for replay; the rest (start, epochs, done) are all kept. */
const FREQUENT_EVENTS_KEPT = 500;

export interface StreamJobOptions<D> {
  kind: string;
  title: string;
  /** Progress and a line for the job list, from an event (null: no change). */
  describe(event: D): { progress: number | null; message: string } | null;
  /** Events of which only the latest FREQUENT_EVENTS_KEPT are kept (e.g. training batches). */
  frequent?(event: D): boolean;
  /** Runs before an event reaches anyone (e.g. to open its output folder); events stay in order. */
  before?(event: D): Promise<void>;
}

interface Entry {
  events: unknown[];
  frequentCount: number;
  listeners: Set<(event: unknown) => void>;
  ended: boolean;
  endListeners: Set<() => void>;
}

export class StreamJobs {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly jobs: JobRegistry,
    private readonly engine: EngineHost,
  ) {}

  start<E extends EventName<EngineContract>>(
    event: E,
    params: ParamsOf<EngineContract, E>,
    options: StreamJobOptions<EventDataOf<EngineContract, E>>,
  ): Job {
    const entry: Entry = { events: [], frequentCount: 0, listeners: new Set(), ended: false, endListeners: new Set() };
    const job = this.jobs.start(options.kind, options.title, (ctx) => {
      return new Promise<void>((resolve, reject) => {
        // Events pass through `before` one at a time, so they arrive in order even when it waits.
        let queue = Promise.resolve();
        const stop = this.engine.subscribe(event, params, {
          data: (data) => {
            queue = queue
              .then(() => options.before?.(data))
              .catch(() => {})
              .then(() => {
                this.record(entry, data, options.frequent?.(data) ?? false);
                const line = options.describe(data);
                if (line) ctx.report(line.progress, line.message);
              });
          },
          end: (error) => {
            void queue.then(() => {
              this.finish(entry);
              if (error) reject(error);
              else resolve();
            });
          },
        });
        ctx.signal.addEventListener('abort', () => {
          stop();
          this.finish(entry);
          resolve();
        });
      });
    });
    this.entries.set(job.id, entry);
    return job;
  }

  /** The job's kept events so far. */
  replay(jobId: string): readonly unknown[] {
    const entry = this.entries.get(jobId);
    if (!entry) throw new StudioError('JOB_NOT_FOUND', `No job with id ${jobId}.`);
    return entry.events;
  }

  /** The run id the engine gave the job's stream in its start event (for pause, resume and stop); null before
   *  it (the model still loading and timed). */
  runId(jobId: string): string | null {
    const start = this.replay(jobId).find((e) => (e as { type?: string }).type === 'start') as { runId?: string } | undefined;
    return start?.runId ?? null;
  }

  /** Replays the job's kept events, then streams new ones; returns the function that stops listening. */
  listen(jobId: string, listener: (event: unknown) => void, onEnd: () => void): () => void {
    const entry = this.entries.get(jobId);
    if (!entry) throw new StudioError('JOB_NOT_FOUND', `No job with id ${jobId}.`);
    for (const event of entry.events) listener(event);
    if (entry.ended) {
      onEnd();
      return () => {};
    }
    entry.listeners.add(listener);
    entry.endListeners.add(onEnd);
    return () => {
      entry.listeners.delete(listener);
      entry.endListeners.delete(onEnd);
    };
  }

  private record(entry: Entry, event: unknown, frequent: boolean): void {
    entry.events.push(event);
    if (frequent && ++entry.frequentCount > FREQUENT_EVENTS_KEPT) {
      // Drop the oldest frequent event, keeping the rare ones (start, epochs, done) for the replay.
      const index = entry.events.findIndex((e) => e !== event && isFrequentLike(e, event));
      if (index >= 0) {
        entry.events.splice(index, 1);
        entry.frequentCount--;
      }
    }
    for (const l of entry.listeners) l(event);
  }

  private finish(entry: Entry): void {
    if (entry.ended) return;
    entry.ended = true;
    for (const l of entry.endListeners) l();
    entry.listeners.clear();
    entry.endListeners.clear();
  }
}

/** The last part of a path (either separator), for a job's title and messages. */
export function baseName(path: string): string {
  return path.split(/[\\/]/).filter(Boolean).pop() ?? path;
}

/** Two events are of the same frequent kind when they share their `type` tag. */
function isFrequentLike(a: unknown, b: unknown): boolean {
  return (a as { type?: unknown }).type === (b as { type?: unknown }).type;
}
