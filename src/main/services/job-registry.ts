// The job registry (JobRegistry). Long work runs as jobs: a call returns the job at once; its changes stream
// as `jobs.update` events; `jobs.cancel` aborts it through its AbortSignal.
import { randomUUID } from 'node:crypto';
import type { Job } from '#shared/contract';
import { StudioError, isAbortError, toErrorEnvelope } from '#shared/rpc/errors';

export interface JobContext {
  signal: AbortSignal;
  /** Reports progress (0..1 or null) and a short line for the UI. */
  report(progress: number | null, message?: string): void;
}

export class JobRegistry {
  private readonly jobs = new Map<string, { job: Job; controller: AbortController }>();
  private readonly listeners = new Set<(job: Job) => void>();

  start(kind: string, title: string, run: (ctx: JobContext) => Promise<void>): Job {
    const controller = new AbortController();
    const job: Job = {
      id: randomUUID(),
      kind,
      title,
      state: 'running',
      progress: 0,
      message: '',
      error: null,
      startedAt: new Date().toISOString(),
      endedAt: null,
    };
    this.jobs.set(job.id, { job, controller });
    this.emit(job);
    const ctx: JobContext = {
      signal: controller.signal,
      report: (progress, message) => {
        if (job.state !== 'running') return;
        this.patch(job.id, { progress, message: message ?? job.message });
      },
    };
    void run(ctx).then(
      () => this.finish(job.id, controller.signal.aborted ? 'cancelled' : 'done', null),
      (error: unknown) => {
        if (controller.signal.aborted || isAbortError(error)) this.finish(job.id, 'cancelled', null);
        else this.finish(job.id, 'failed', toErrorEnvelope(error));
      },
    );
    return { ...job };
  }

  list(): Job[] {
    return [...this.jobs.values()].map((e) => ({ ...e.job }));
  }

  get(id: string): Job {
    const entry = this.jobs.get(id);
    if (!entry) throw new StudioError('JOB_NOT_FOUND', `No job with id ${id}.`);
    return { ...entry.job };
  }

  cancel(id: string): Job {
    const entry = this.jobs.get(id);
    if (!entry) throw new StudioError('JOB_NOT_FOUND', `No job with id ${id}.`);
    if (entry.job.state === 'running' || entry.job.state === 'paused' || entry.job.state === 'queued') {
      entry.controller.abort();
      this.finish(id, 'cancelled', null);
    }
    return { ...entry.job };
  }

  onUpdate(listener: (job: Job) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private finish(id: string, state: Job['state'], error: { code: string; message: string } | null): void {
    const entry = this.jobs.get(id);
    if (!entry || ['done', 'failed', 'cancelled'].includes(entry.job.state)) return;
    this.patch(id, {
      state,
      error,
      progress: state === 'done' ? 1 : entry.job.progress,
      endedAt: new Date().toISOString(),
    });
  }

  private patch(id: string, change: Partial<Job>): void {
    const entry = this.jobs.get(id);
    if (!entry) return;
    Object.assign(entry.job, change);
    this.emit(entry.job);
  }

  private emit(job: Job): void {
    const copy = { ...job };
    for (const l of this.listeners) l(copy);
  }
}
