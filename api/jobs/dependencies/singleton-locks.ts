/**
 * sbatch's `--dependency=singleton` (sbatch(1): "only one job by that name and owned by that user can be running …
 * at any point in time"), serialised across every API process: what starts a singleton job (the confirm) and what
 * re-decides it when a run of its name ends (settle-dependents.ts) hold the (name, user) pair's transaction-scoped
 * advisory lock, so two nodes confirming two such jobs at once start one, and a run's end never misses a job whose
 * confirm put it back to wait.
 */
import { sql } from 'drizzle-orm';
import type { Database } from '../../../shared/db/database.js';
import { nullableWordArray, textArray } from '../../../shared/db/pg-array.js';

// The advisory lock namespace of singleton names: a constant no other lock of this project uses (array-task-limit.ts
// once shared this one, so an array and a name whose keys collided waited for each other).
const SINGLETON_LOCK_NAMESPACE = 12_024;

/** A job name and its owner (null: a job naming none). */
export interface JobName {
  name: string;
  user: string | null;
}

/**
 * Takes each pair's lock, in key order (one statement: overlapping sets never deadlock), held until the caller's
 * transaction ends, before locking job rows (the confirm's order). Outside a transaction it is a wait for whoever
 * holds one of them now, released at once.
 */
export async function lockSingletonNames(tx: Database, names: readonly JobName[]): Promise<void> {
  if (names.length === 0) return;
  await tx.execute(sql`
    SELECT pg_advisory_xact_lock(${SINGLETON_LOCK_NAMESPACE}, key)
    FROM (SELECT DISTINCT hashtext(coalesce(owner, '') || '/' || name) AS key
          FROM unnest(${textArray(names.map((job) => job.name))}, ${nullableWordArray(names.map((job) => job.user))})
            AS pair(name, owner)
          ORDER BY key) AS keys`);
}
