/**
 * PENDING jobs that a stored reason keeps out of the queue (shared/job/pending-reason.ts, OUT_OF_QUEUE_REASONS): an
 * account limit, a hold, a begin time, a dependency, an array's cap. No ref of them is pushed, and a ref a node still
 * claims starts none of them: what ends the wait sets the reason back to `Priority` and pushes the ref.
 */
import { sql, type SQL } from 'drizzle-orm';
import { jobs } from '../../shared/db/schema.js';
import { OUT_OF_QUEUE_REASONS, WORKFLOW_WAIT_REASONS } from '../../shared/job/pending-reason.js';

/** An SQL array literal of these words; inlined, so that partial indexes over these reasons can be used. */
export const reasonList = (reasons: readonly string[]): SQL =>
  sql.raw(`ARRAY[${reasons.map((reason) => `'${reason}'`).join(', ')}]`);

/** Whether a PENDING job's stored `reason` keeps it out of the queue (no ref of it is pushed). */
export const isOutOfQueue = (reason: string | null): boolean =>
  reason !== null && (OUT_OF_QUEUE_REASONS as readonly string[]).includes(reason);

/** The condition that a PENDING job is in the queue: its refs are pushed, by the reconciler's sweep too. */
export const notOutOfQueue = sql`(${jobs.reason} IS NULL OR NOT ${jobs.reason} = ANY(${reasonList(OUT_OF_QUEUE_REASONS)}))`;

/**
 * The condition, for the confirm's statement, that no workflow wait holds the job `reason` (an SQL expression) is
 * of: a job held, not yet begun or waiting on a dependency never starts, whatever ref was claimed. (An account
 * limit's reason is decided anew by the confirm itself: api/accounts/running-limits.ts.)
 */
export const noWorkflowWait = (reason: SQL): SQL =>
  sql`coalesce(${reason}, '') <> ALL(${reasonList(WORKFLOW_WAIT_REASONS)})`;
