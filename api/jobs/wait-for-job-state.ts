/**
 * GET /v1/jobs/{id}?wait=…&timeout=…: a long poll that answers when the job is in one of the states asked for, or at
 * the timeout with the job as it is then. On the Node host it looks again when the process's event reader
 * (api/events/event-hub.ts) reads an event of the job, and at least every `pollMs`; without one (Workers), every
 * `pollMs`.
 */
import type { JobRow } from '../../shared/db/schema.js';
import type { JobState } from '../../shared/job/job-state.js';
import type { EventHub } from '../events/event-hub.js';

export interface JobWait {
  load(): Promise<JobRow>;
  states: readonly JobState[];
  timeoutMs: number;
  hub: EventHub | undefined;
  pollMs: number;
  /** Aborted when the API stops: the job is answered as it is. */
  closing: AbortSignal | undefined;
}

export async function waitForJobState(wait: JobWait): Promise<JobRow> {
  const deadline = Date.now() + wait.timeoutMs;
  let job = await wait.load();
  let wake: (() => void) | undefined;
  const unsubscribe = wait.hub?.subscribe((batch) => {
    if (batch.events.some((event) => event.kind === 'job' && event.jobId === job.id)) wake?.();
  });
  const stopped = () => wake?.();
  wait.closing?.addEventListener('abort', stopped);
  try {
    while (!wait.states.includes(job.state) && Date.now() < deadline && !wait.closing?.aborted) {
      await new Promise<void>((resume) => {
        const timer = setTimeout(done, Math.min(wait.pollMs, deadline - Date.now()));
        function done() {
          clearTimeout(timer);
          resume();
        }
        wake = done;
      });
      wake = undefined;
      job = await wait.load();
    }
    return job;
  } finally {
    unsubscribe?.();
    wait.closing?.removeEventListener('abort', stopped);
  }
}
