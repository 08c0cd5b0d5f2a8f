import { sql } from 'drizzle-orm';
import type { Database } from '../../shared/db/database.js';
import { queryRows } from '../../shared/db/query-rows.js';
import type { JobSummaryRow } from './job-summary.js';
import { isTerminal, statesLeadingTo, type JobState } from '../../shared/job/job-state.js';
import { JobNotFound } from '../http/errors.js';
import { jobColumns, toJobRow } from './job-columns.js';

export interface Transition {
  id: number;
  to: JobState;
  /** The states this transition may start from: those of the transition table, or fewer. */
  from?: readonly JobState[];
  actor: string;
  reason: string;
  /** A user token's account: the job must belong to it. */
  account?: string | undefined;
}

/**
 * Moves a job to another state with one conditional write and records the event in the same statement. The row lock
 * taken by `current` makes concurrent callers queue: the first one moves the job, the others see the new state and
 * change nothing. Answers the job and whether this call moved it.
 */
export async function transitionJob(db: Database, t: Transition): Promise<{ job: JobSummaryRow; moved: boolean }> {
  const allowed = statesLeadingTo(t.to);
  const from = (t.from ?? allowed).filter((state) => allowed.includes(state));
  const rows = await queryRows(
    db,
    sql`
    WITH current AS (
      SELECT * FROM jobs
      WHERE id = ${t.id} ${t.account === undefined ? sql`` : sql`AND account = ${t.account}`}
      FOR UPDATE
    ), moved AS (
      UPDATE jobs SET
        state = ${t.to},
        reason = ${t.to === 'PENDING' ? 'Priority' : null},
        end_time = ${isTerminal(t.to) ? sql`now()` : sql`jobs.end_time`}
      FROM current
      WHERE jobs.id = current.id AND current.state = ANY(${`{${from.join(',')}}`}::text[])
      RETURNING jobs.*, current.state AS previous_state
    ), event AS (
      INSERT INTO job_events (job_id, attempt, from_state, to_state, actor, reason)
      SELECT id, attempt, previous_state, state, ${t.actor}, ${t.reason} FROM moved
    )
    SELECT true AS moved, ${jobColumns('moved')} FROM moved
    UNION ALL
    SELECT false, ${jobColumns('current')} FROM current WHERE NOT EXISTS (SELECT 1 FROM moved)
  `,
  );
  const row = rows[0];
  if (!row) throw new JobNotFound(String(t.id));
  return { job: toJobRow(row), moved: row.moved === true };
}
