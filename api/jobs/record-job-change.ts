/**
 * The event of a change made to a waiting job (issue 20): a hold, a release, an update (scontrol's). A transition's
 * event is written by the transition function (transition-jobs.ts); this one keeps the job's state on both sides
 * (from_state = to_state) and says what changed, so that GET /v1/jobs/{id}/events shows it among the transitions.
 */
import type { Database } from '../../shared/db/database.js';
import { jobEvents, type JobRow } from '../../shared/db/schema.js';
import type { JobChanges, JobEventKind } from '../../shared/job/job-change.js';

/** Inserts the event, in the caller's transaction: the change and its record commit together. */
export async function recordJobChange(
  tx: Database,
  job: Pick<JobRow, 'id' | 'attempt' | 'state'>,
  change: { kind: Exclude<JobEventKind, 'transition'>; actor: string; reason: string; changes: JobChanges },
): Promise<void> {
  await tx.insert(jobEvents).values({
    jobId: job.id,
    attempt: job.attempt,
    fromState: job.state,
    toState: job.state,
    actor: change.actor,
    reason: change.reason,
    kind: change.kind,
    changes: change.changes,
  });
}
