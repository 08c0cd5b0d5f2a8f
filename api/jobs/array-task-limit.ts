/**
 * A job array's `%N` cap (sbatch --array=…%N): never more than N of its tasks RUNNING at once. Two halves:
 * - the queue holds at most N of them at a time: the submit puts the first N in it and the rest PENDING with reason
 *   JobArrayTaskLimit and no ref (insert-array.ts), and a task's end releases the next held ones, lowest index first
 *   (releaseArrayTasks: called where runs end, transition-jobs.ts, and by the reconciler as a safety net), so nodes
 *   claim no task only to have it refused;
 * - the confirm is the truth (withinArrayLimits): under the array's advisory lock it counts the array's RUNNING tasks
 *   and starts no more than the cap allows; a task refused stays PENDING with reason JobArrayTaskLimit and no ref
 *   (its claim settled by the node), released again by a task's end.
 * The cap is checked per array, like the account's limits per account (api/accounts/running-limits.ts).
 */
import { sql } from 'drizzle-orm';
import type { Database } from '../../shared/db/database.js';
import { bigintArray } from '../../shared/db/pg-array.js';
import { queryRows } from '../../shared/db/query-rows.js';

// The advisory lock namespace of job arrays: any constant no other lock of this project uses.
const ARRAY_LOCK_NAMESPACE = 12_025;

/** The tasks that count against a cap (the predicate of migration 0025's jobs_array_active, written as it is). */
const ACTIVE = sql.raw(`array_task_limit IS NOT NULL AND state IN ('PENDING', 'RUNNING')
    AND reason IS DISTINCT FROM 'JobArrayTaskLimit'`);

/**
 * Serialises what decides against an array's cap across API processes: each array's transaction-scoped advisory lock,
 * taken in key order in one statement (no deadlock between two transactions locking overlapping sets). Only inside
 * a transaction.
 */
async function lockArrays(tx: Database, arrayJobIds: readonly number[]): Promise<void> {
  await tx.execute(sql`
    SELECT pg_advisory_xact_lock(${ARRAY_LOCK_NAMESPACE}, key)
    FROM (SELECT DISTINCT hashtext(id::text) AS key FROM unnest(${bigintArray(arrayJobIds)}) AS id ORDER BY key) AS keys`);
}

/**
 * Of these claimed job ids, those their arrays' caps let start now, in input order; the others, when still PENDING,
 * get reason JobArrayTaskLimit stored (out of the queue until a task's end releases them). Jobs of no capped array
 * pass without a lock. Within an array, lower indexes go first. Call it in the transaction that starts the jobs.
 */
export async function withinArrayLimits(tx: Database, ids: number[]): Promise<number[]> {
  if (ids.length === 0) return ids;
  const claimed = await queryRows(
    tx,
    sql`SELECT id, array_job_id, array_task_limit FROM jobs
        WHERE id = ANY(${bigintArray(ids)}) AND state = 'PENDING' AND array_task_limit IS NOT NULL
        ORDER BY array_job_id, array_task_id`,
  );
  if (claimed.length === 0) return ids;
  const arrays = [...new Set(claimed.map((row) => Number(row.array_job_id)))];
  await lockArrays(tx, arrays);
  // Read under the locks: every start of these arrays another confirm committed.
  const running = await queryRows(
    tx,
    sql`SELECT array_job_id, count(*) AS running FROM jobs
        WHERE array_job_id = ANY(${bigintArray(arrays)}) AND ${ACTIVE} AND state = 'RUNNING'
        GROUP BY array_job_id`,
  );
  const room = new Map(arrays.map((id) => [id, Infinity]));
  for (const row of claimed) room.set(Number(row.array_job_id), Number(row.array_task_limit));
  for (const row of running)
    room.set(Number(row.array_job_id), room.get(Number(row.array_job_id))! - Number(row.running));
  const held: number[] = [];
  for (const row of claimed) {
    const array = Number(row.array_job_id);
    const left = room.get(array)!;
    if (left < 1) held.push(Number(row.id));
    else room.set(array, left - 1);
  }
  if (held.length === 0) return ids;
  await queryRows(
    tx,
    sql`UPDATE jobs SET reason = 'JobArrayTaskLimit' WHERE id = ANY(${bigintArray(held)}) AND state = 'PENDING'`,
  );
  const refused = new Set(held);
  return ids.filter((id) => !refused.has(id));
}

/**
 * Releases tasks the caps of these arrays (or of every array holding some) hold, lowest index first, as many as
 * each cap leaves room for beside its tasks RUNNING or in the queue: back to reason `Priority`, marked not enqueued,
 * for the caller (push-not-enqueued.ts, pushOwedRefs) or the reconciler to push. Answers how many it released.
 * Inside a transaction the arrays' locks make the count exact; outside one, a race may release one too many, which
 * costs a claim, never a start over the cap (the confirm decides).
 */
export async function releaseArrayTasks(db: Database, arrayJobIds?: readonly number[]): Promise<number> {
  if (arrayJobIds?.length === 0) return 0;
  const arrays =
    arrayJobIds ??
    (
      await queryRows(
        db,
        sql`SELECT DISTINCT array_job_id FROM jobs WHERE state = 'PENDING' AND reason = 'JobArrayTaskLimit'`,
      )
    ).map((row) => Number(row.array_job_id));
  if (arrays.length === 0) return 0;
  await lockArrays(db, arrays);
  const released = await queryRows(
    db,
    sql`WITH arrays AS (
          SELECT a.id AS array_job_id,
                 (SELECT array_task_limit FROM jobs
                  WHERE array_job_id = a.id AND state = 'PENDING' AND reason = 'JobArrayTaskLimit' LIMIT 1)
                   - (SELECT count(*) FROM jobs WHERE array_job_id = a.id AND ${ACTIVE}) AS room
          FROM unnest(${bigintArray(arrays)}) AS a(id)
        ), next AS (
          SELECT held.id FROM arrays, LATERAL (
            SELECT id FROM jobs
            WHERE array_job_id = arrays.array_job_id AND state = 'PENDING' AND reason = 'JobArrayTaskLimit'
            ORDER BY array_task_id LIMIT greatest(arrays.room, 0)
            FOR UPDATE SKIP LOCKED
          ) AS held
        )
        UPDATE jobs SET reason = 'Priority', enqueued = false
        FROM next WHERE jobs.id = next.id
        RETURNING jobs.id`,
  );
  return released.length;
}
