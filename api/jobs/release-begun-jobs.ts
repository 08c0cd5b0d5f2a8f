/**
 * Ends the `BeginTime` wait of the jobs whose time has come: sbatch's --begin, or a retry's backoff (issue 20). Such a
 * job waits out of the queue (out-of-queue.ts) with its eligible_time in the future; the reconciler calls this on
 * every run, so a job becomes eligible within one reconciler interval of its time, as Slurm's scheduler starts it
 * at its next pass after the time.
 */
import { sql } from 'drizzle-orm';
import type { Database } from '../../shared/db/database.js';
import { queryRows } from '../../shared/db/query-rows.js';

/**
 * Sets the reason of every PENDING job waiting for a begin time at or before `now` back to `Priority`, marked not
 * enqueued: the caller pushes their refs (push-not-enqueued.ts). Rows another transaction holds are skipped, never
 * waited for (the next run takes them). Answers how many jobs it released.
 */
export async function releaseBegunJobs(db: Database, now: Date): Promise<number> {
  const rows = await queryRows(
    db,
    sql`UPDATE jobs SET reason = 'Priority', enqueued = false
        WHERE id IN (SELECT id FROM jobs
                     WHERE state = 'PENDING' AND reason = 'BeginTime' AND eligible_time <= ${now.toISOString()}
                     FOR UPDATE SKIP LOCKED)
        RETURNING id`,
  );
  return rows.length;
}
