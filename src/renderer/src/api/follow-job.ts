// Follows a running job: its stream of events (replayed from the start) and its state changes, until
// stopped. Restore and Train both watch their job this way.
import type { Ref } from 'vue';
import type { Job, StudioContract } from '#shared/contract';
import type { EventDataOf } from '#shared/rpc/protocol';
import { describeError } from '../composables/errors';
import { StudioError } from '#shared/rpc/errors';
import { api } from './index';

type JobStream = 'restore.events' | 'train.events';

export function followJob<E extends JobStream>(
  jobId: string,
  stream: E,
  handlers: { event(data: EventDataOf<StudioContract, E>): void; job(job: Job): void; error(message: string): void },
): () => void {
  // Both streams take { jobId }; the generic cannot see that through the contract's indexed types.
  const stopEvents = api.subscribe(stream as 'restore.events', { jobId }, {
    data: handlers.event as (data: EventDataOf<StudioContract, 'restore.events'>) => void,
    end: (e) => {
      if (e) handlers.error(describeError(e));
    },
  });
  const stopJob = api.subscribe('jobs.update', { jobId }, (update) => {
    handlers.job(update);
    // The job's error is an envelope; as a StudioError it is worded like any other.
    if (update.state === 'failed' && update.error) handlers.error(describeError(new StudioError(update.error.code as StudioError['code'], update.error.message)));
  });
  return () => {
    stopEvents();
    stopJob();
  };
}

/** followJob for a store that keeps the job, its events and the last error in refs. */
export function followJobInto<E extends JobStream>(
  jobId: string,
  stream: E,
  refs: { events: Ref<EventDataOf<StudioContract, E>[]>; job: Ref<Job | null>; error: Ref<string | null> },
): () => void {
  return followJob(jobId, stream, {
    event: (e) => refs.events.value.push(e),
    job: (update) => (refs.job.value = update),
    error: (message) => (refs.error.value = message),
  });
}
