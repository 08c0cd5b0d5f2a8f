/**
 * Releases jobs an account's running limit holds (running-limits.ts) once its account has room again: a run of it
 * ended, or an admin raised or removed the limit. Released jobs go back to the reason `Priority` and are marked not
 * enqueued: their refs are pushed after the commit (push-not-enqueued.ts), by the caller that ended the run or by the
 * reconciler, the safety net that also releases what a race between a confirm and a run's end left held.
 */
import { sql } from 'drizzle-orm';
import type { Database } from '../../shared/db/database.js';
import { wordArray } from '../../shared/db/pg-array.js';
import { queryRows } from '../../shared/db/query-rows.js';
import { reasonList } from '../jobs/out-of-queue.js';
import { ACCOUNT_LIMIT_REASONS } from '../../shared/job/pending-reason.js';

// Inlined, not a parameter: the partial index on held jobs (migration 0021) is used only when the planner sees its
// predicate's values in the statement.
const HELD = reasonList(ACCOUNT_LIMIT_REASONS);

/**
 * Releases, per account (these, or every account holding jobs), its held jobs in priority order (then submit order)
 * while they fit the room its running limits leave: the prefix that fits, so a large job first in line is not passed
 * by smaller ones (but for a job larger than the limit itself, which never starts and stays held). An account without limits (its row deleted, its limits cleared) releases them all. The room is read
 * without the accounts' locks: releasing one too many costs a claim, never an over-limit start (the confirm decides).
 * Rows another transaction holds are skipped, never waited for. Answers how many jobs it released.
 */
export async function releaseHeldJobs(db: Database, accounts?: readonly string[]): Promise<number> {
  if (accounts?.length === 0) return 0;
  const ofAccounts = accounts ? sql`AND j.account = ANY(${wordArray(accounts)})` : sql``;
  const released = await queryRows(
    db,
    sql`WITH held AS (
          SELECT j.id, j.account, j.cpus, j.priority FROM jobs j LEFT JOIN accounts a ON a.name = j.account
          WHERE j.state = 'PENDING' AND j.reason = ANY(${HELD}) ${ofAccounts}
            -- A job larger than its account's CPU limit (lowered after it was submitted) never starts: it stays held
            -- and does not stand in the way of the smaller ones behind it.
            AND (a.max_running_cpus IS NULL OR j.cpus <= a.max_running_cpus)
          FOR UPDATE OF j SKIP LOCKED
        ), queued AS (
          SELECT id, account,
                 sum(cpus) OVER (PARTITION BY account ORDER BY priority DESC, id) AS cpus_through,
                 row_number() OVER (PARTITION BY account ORDER BY priority DESC, id) AS jobs_through
          FROM held
        ), room AS (
          SELECT a.name, a.max_running_cpus - coalesce(sum(j.cpus), 0) AS cpus,
                 a.max_running_jobs - count(j.id) AS jobs
          FROM accounts a LEFT JOIN jobs j ON j.account = a.name AND j.state = 'RUNNING'
          WHERE a.name IN (SELECT account FROM held)
          GROUP BY a.name
        )
        UPDATE jobs SET reason = 'Priority', enqueued = false
        FROM queued LEFT JOIN room ON room.name = queued.account
        WHERE jobs.id = queued.id
          AND (room.cpus IS NULL OR queued.cpus_through <= room.cpus)
          AND (room.jobs IS NULL OR queued.jobs_through <= room.jobs)
        RETURNING jobs.id`,
  );
  return released.length;
}
