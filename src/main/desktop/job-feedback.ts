// What the desktop shows about jobs outside the window: taskbar/dock progress while work runs, and a
// notification when a batch or a training run ends.
import type { Job } from '#shared/contract';

/** The taskbar progress: the mean of the running jobs' progress, or -1 (none) when nothing runs. */
export function taskbarProgress(jobs: readonly Job[]): number {
  const running = jobs.filter((j) => j.state === 'running' || j.state === 'paused');
  if (running.length === 0) return -1;
  const known = running.map((j) => j.progress).filter((p): p is number => p !== null);
  if (known.length === 0) return 2; // Electron: > 1 shows an indeterminate bar
  return known.reduce((a, b) => a + b, 0) / known.length;
}

export interface NotificationText {
  title: string;
  body: string;
}

/** A notification for a job that just ended; null for jobs that are not worth interrupting the user for. */
export function jobEndNotification(job: Job): NotificationText | null {
  if (job.state === 'done') return { title: `${job.title}: finished`, body: job.message || 'All done.' };
  if (job.state === 'failed') return { title: `${job.title}: failed`, body: job.error?.message ?? 'Something went wrong.' };
  return null;
}
