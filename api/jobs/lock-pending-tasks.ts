import { sql } from 'drizzle-orm';
import type { Database } from '../../shared/db/database.js';
import { queryRows } from '../../shared/db/query-rows.js';
import { JobNotPending } from '../http/errors.js';

/**
 * Locks the PENDING tasks of the array `arrayJobId` (of `account`, a user token's, when given) for the caller's
 * transaction, in one statement, for a change only PENDING tasks take (an array's hold, release, update): a confirm
 * that would start one meanwhile waits for the change, then sees it. Answers how many are PENDING and how many of
 * those an admin holds. Throws JobNotPending (409, with `why`) when none is PENDING.
 */
export async function lockPendingTasks(
  tx: Database,
  arrayJobId: number,
  account: string | undefined,
  why: string,
): Promise<{ pending: number; adminHeld: number }> {
  const [row] = await queryRows(
    tx,
    sql`SELECT count(*)::int AS pending, count(*) FILTER (WHERE reason = 'JobHeldAdmin')::int AS admin_held
        FROM (SELECT reason FROM jobs
              WHERE array_job_id = ${arrayJobId} AND state = 'PENDING'
                AND ${account === undefined ? sql`true` : sql`account = ${account}`}
              FOR UPDATE) AS tasks`,
  );
  const pending = Number(row!.pending);
  if (pending === 0) throw new JobNotPending(String(arrayJobId), 'an array with no PENDING task', why);
  return { pending, adminHeld: Number(row!.admin_held) };
}
