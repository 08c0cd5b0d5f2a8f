import { sql } from 'drizzle-orm';
import type { Database } from '../../shared/db/database.js';
import type { JobQueue } from '../../shared/queue/job-queue.js';
import { queryRows } from '../../shared/db/query-rows.js';
import type { JobSummaryRow } from './job-summary.js';
import { InvalidTransition, JobNotFound } from '../http/errors.js';
import { jobColumns, toJobRow } from './job-columns.js';
import { transitionJob } from './transition-job.js';

/** What a cancel did: cancelled a PENDING job, asked the node to end a RUNNING one, or nothing (asked before). */
export type CancelEffect = 'cancelled' | 'cancel_requested' | 'none';

/**
 * Cancel is idempotent: a PENDING job becomes CANCELLED now; a RUNNING job is marked, and its node ends it and
 * reports CANCELLED; asking again changes nothing and succeeds. A job that already ended otherwise is a 409.
 */
export async function cancelJob(
  db: Database,
  queue: JobQueue,
  id: number,
  actor: string,
  account: string | undefined,
): Promise<{ job: JobSummaryRow; effect: CancelEffect }> {
  const { job, moved } = await transitionJob(db, {
    id,
    to: 'CANCELLED',
    from: ['PENDING'],
    actor,
    reason: 'cancelled by request',
    account,
  });
  if (moved) {
    // Its ref is harmless if this fails (the confirm drops it), just wasted work for a node.
    await queue.remove([id]).catch((error: Error) => console.warn(`job ${id}: ref not removed: ${error.message}`));
    return { job, effect: 'cancelled' };
  }
  if (job.state === 'CANCELLED') return { job, effect: 'none' };
  if (job.state === 'RUNNING') return markCancelRequested(db, queue, id, actor, account);
  throw new InvalidTransition(String(id), job.state, 'CANCELLED');
}

/**
 * Marks a RUNNING job for its node to end, once; the request is kept in the job's history. Like transitionJob, it
 * reads the row under its lock, so a requeue or an ending that commits meanwhile is seen, not missed.
 */
async function markCancelRequested(
  db: Database,
  queue: JobQueue,
  id: number,
  actor: string,
  account: string | undefined,
): Promise<{ job: JobSummaryRow; effect: CancelEffect }> {
  const rows = await queryRows(
    db,
    sql`
    WITH current AS (
      SELECT * FROM jobs WHERE id = ${id} FOR UPDATE
    ), marked AS (
      UPDATE jobs SET cancel_requested_at = now()
      FROM current
      WHERE jobs.id = current.id AND current.state = 'RUNNING' AND current.cancel_requested_at IS NULL
      RETURNING jobs.*
    ), event AS (
      INSERT INTO job_events (job_id, attempt, from_state, to_state, actor, reason)
      SELECT id, attempt, state, state, ${actor}, 'cancel requested' FROM marked
    )
    SELECT true AS marked, ${jobColumns('marked')} FROM marked
    UNION ALL
    SELECT false, ${jobColumns('current')} FROM current WHERE NOT EXISTS (SELECT 1 FROM marked)
  `,
  );
  const row = rows[0];
  if (!row) throw new JobNotFound(String(id));
  const job = toJobRow(row);
  if (row.marked === true) return { job, effect: 'cancel_requested' };
  if (job.state === 'RUNNING') return { job, effect: 'none' };
  // It ended or was requeued between the two statements: answer as for that state.
  return cancelJob(db, queue, id, actor, account);
}
