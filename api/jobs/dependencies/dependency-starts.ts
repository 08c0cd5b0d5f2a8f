/**
 * The confirm's dependency check: of the claimed jobs, one with a dependency starts only when it holds now. A job can
 * reach a claim with its dependency unmet when another wait ended first (a hold released, a begin time come: they
 * show before the dependency), so the check is made where a job starts, whatever released it: an unmet one goes back
 * to waiting (reason `Dependency`, out of the queue), for its parents' ends to settle (settle-dependents.ts); one that
 * never can hold is cancelled there and then (or kept, kill_on_invalid_dep false).
 *
 * Singleton (sbatch --dependency=singleton): one job of a name and user runs at once. A singleton job starts only
 * when none of its name runs and no other such job of this confirm starts; the names' advisory locks
 * (singleton-locks.ts) are held to the end of the confirm's transaction, so confirms racing on several nodes start one.
 */
import { sql } from 'drizzle-orm';
import type { Database } from '../../../shared/db/database.js';
import { bigintArray } from '../../../shared/db/pg-array.js';
import { queryRows } from '../../../shared/db/query-rows.js';
import { noWorkflowWait } from '../out-of-queue.js';
import { decideConditions, judgeJobs, markSingletonBlockers, singletonBlocker } from './dependency-conditions.js';
import { applyVerdicts } from './settle-dependents.js';
import { lockSingletonNames } from './singleton-locks.js';

/**
 * Of these claimed job ids, those their dependencies let start now, in input order; the others, when still PENDING,
 * wait again for their dependency. Jobs without one cost one indexed read. Call it in the transaction that starts the
 * jobs.
 */
export async function withinDependencies(tx: Database, ids: number[]): Promise<number[]> {
  if (ids.length === 0) return ids;
  const dependent = await queryRows(
    tx,
    // A job another wait holds (a hold or a begin time set since its claim) does not start whatever its dependency says,
    // and keeps that wait: the confirm's transition refuses it.
    sql`SELECT DISTINCT d.job_id FROM job_dependencies d JOIN jobs j ON j.id = d.job_id
        WHERE d.job_id = ANY(${bigintArray(ids)}) AND j.state = 'PENDING' AND ${noWorkflowWait(sql`j.reason`)}`,
  );
  if (dependent.length === 0) return ids;
  const dependentIds = dependent.map((row) => Number(row.job_id));
  await decideConditions(tx, dependentIds);
  const verdicts = await judgeJobs(tx, dependentIds);
  const unmet = verdicts.filter((job) => job.verdict !== 'release').map((job) => job.id);
  const ready = dependentIds.filter((id) => !unmet.includes(id));
  const held = [...unmet, ...(await singletonsHeld(tx, ready))];
  if (held.length === 0) return ids;
  // Checked again as it is written: a hold committed since the read above (its row lock waited for) is kept.
  const waiting = await queryRows(
    tx,
    sql`UPDATE jobs SET reason = 'Dependency'
        WHERE id = ANY(${bigintArray(held)}) AND state = 'PENDING' AND ${noWorkflowWait(sql`reason`)}
        RETURNING id`,
  );
  const back = new Set(waiting.map((row) => Number(row.id)));
  // One that never can start is cancelled (or kept) now, as its parent's end would have done.
  await applyVerdicts(
    tx,
    verdicts.filter((job) => job.verdict === 'never' && back.has(job.id)).map((job) => job.id),
  );
  return ids.filter((id) => !held.includes(id));
}

/**
 * Of these jobs whose dependency holds, the singleton ones that may not start: a job of their name and user runs, or
 * was submitted before them and has not ended (singletonBlocker), or another of this confirm starts first (priority,
 * then submit order). A job whose "?" list holds by another condition is not held by singleton.
 */
async function singletonsHeld(tx: Database, ids: number[]): Promise<number[]> {
  if (ids.length === 0) return [];
  const singles = await queryRows(
    tx,
    sql`SELECT j.id, j.name, j.unix_user FROM jobs j
        WHERE j.id = ANY(${bigintArray(ids)})
          AND EXISTS (SELECT 1 FROM job_dependencies d WHERE d.job_id = j.id AND d.kind = 'singleton')
          AND NOT EXISTS (SELECT 1 FROM job_dependencies d WHERE d.job_id = j.id AND d.any_of AND d.satisfied)
        ORDER BY j.priority DESC, j.id`,
  );
  if (singles.length === 0) return [];
  const names = singles.map((row) => ({
    name: String(row.name),
    user: row.unix_user === null ? null : String(row.unix_user),
  }));
  await lockSingletonNames(tx, names);
  await markSingletonBlockers(
    tx,
    singles.map((row) => Number(row.id)),
  );
  // Read under the locks: every run another confirm committed.
  const blocked = await queryRows(
    tx,
    sql`SELECT c.id FROM jobs c
        WHERE c.id = ANY(${bigintArray(singles.map((row) => Number(row.id)))})
          AND EXISTS (SELECT 1 FROM jobs r WHERE ${singletonBlocker(sql`r`, sql`c`)})`,
  );
  const blockedIds = new Set(blocked.map((row) => Number(row.id)));
  const taken = new Set<string>();
  const held: number[] = [];
  for (const [n, row] of singles.entries()) {
    const { name, user } = names[n]!;
    const key = `${user ?? ''}/${name}`;
    // Only a job that starts takes its name: one held here must not hold back the earlier job that blocks it.
    if (taken.has(key) || blockedIds.has(Number(row.id))) held.push(Number(row.id));
    else taken.add(key);
  }
  return held;
}
