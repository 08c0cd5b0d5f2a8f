/**
 * The SQL that decides a dependent job's conditions from its parents' states (shared/job/dependency.ts gives each
 * type's meaning, after sbatch(1)). A parent is a job, or every task of an array when its id is the array's; for
 * aftercorr, the parent array's task of the child's index (a child that is no array task waits for every task, as
 * afterok). A condition on no job at all (a parent purged by
 * retention long after it settled the condition, an aftercorr with no task of that index) is satisfied: nothing is
 * left to wait for.
 */
import { sql, type SQL } from 'drizzle-orm';
import type { Database } from '../../../shared/db/database.js';
import { bigintArray, wordArray } from '../../../shared/db/pg-array.js';
import { queryRows } from '../../../shared/db/query-rows.js';
import { isTerminal, JOB_STATES } from '../../../shared/job/job-state.js';

const ENDED = wordArray(JOB_STATES.filter(isTerminal));

/** A condition decided for good: true (holds), false (never can); null while its parents may still change it. */
const VERDICT: SQL = sql`CASE
  WHEN agg.n = 0 THEN true
  WHEN cond.kind = 'after' THEN CASE WHEN agg.pending = 0 THEN true END
  WHEN cond.kind = 'afterany' THEN CASE WHEN agg.ended = agg.n THEN true END
  WHEN cond.kind = 'afternotok' THEN CASE WHEN agg.ended = agg.n THEN agg.completed < agg.n END
  -- afterok, aftercorr: every parent COMPLETED; one that ended otherwise never will.
  ELSE CASE WHEN agg.completed = agg.n THEN true WHEN agg.ended > agg.completed THEN false END
END`;

/** The verdict (VERDICT) of each undecided parent condition of these jobs, from their parents' states now. */
const undecidedVerdicts = (jobIds: readonly number[]): SQL => sql`WITH cond AS (
    SELECT d.job_id, d.position, d.kind, d.parent_id, c.array_task_id AS child_task
    FROM job_dependencies d JOIN jobs c ON c.id = d.job_id
    WHERE d.job_id = ANY(${bigintArray(jobIds)}) AND d.satisfied IS NULL AND d.parent_id IS NOT NULL
  ), verdict AS (
    SELECT cond.job_id, cond.position, ${VERDICT} AS satisfied
    FROM cond CROSS JOIN LATERAL (
      SELECT count(*) AS n,
             count(*) FILTER (WHERE p.state = 'PENDING') AS pending,
             count(*) FILTER (WHERE p.state = ANY(${ENDED})) AS ended,
             count(*) FILTER (WHERE p.state = 'COMPLETED') AS completed
      FROM jobs p
      WHERE (p.id = cond.parent_id OR p.array_job_id = cond.parent_id)
        AND (cond.kind <> 'aftercorr' OR cond.child_task IS NULL OR p.array_task_id = cond.child_task)
    ) agg
  )`;

/**
 * Decides the undecided parent conditions of these (locked) dependent jobs from their parents' states now, and
 * stores the verdicts that are final.
 */
export async function decideConditions(tx: Database, jobIds: readonly number[]): Promise<void> {
  if (jobIds.length === 0) return;
  await queryRows(
    tx,
    sql`${undecidedVerdicts(jobIds)}
        UPDATE job_dependencies d SET satisfied = verdict.satisfied FROM verdict
        WHERE d.job_id = verdict.job_id AND d.position = verdict.position AND verdict.satisfied IS NOT NULL`,
  );
}

/**
 * What decideConditions would store for one job now, read only: position → verdict (true, false, or null while it
 * waits), for its undecided conditions. A job held or not yet begun is settled only when that wait ends (its
 * parents' settle skips it), so what GET shows of it is read so.
 */
export async function conditionsNow(db: Database, jobId: number): Promise<Map<number, boolean | null>> {
  const rows = await queryRows(db, sql`${undecidedVerdicts([jobId])} SELECT position, satisfied FROM verdict`);
  return new Map(rows.map((row) => [Number(row.position), row.satisfied === null ? null : row.satisfied === true]));
}

/** What a dependent job's conditions say together. */
export type JobVerdict = 'release' | 'never' | 'wait';

/**
 * Marks the jobs that block these singleton jobs now (singletonBlocker) as having dependents (migration 0029), in id
 * order, so that a blocker's end re-decides them (settle-dependents.ts). Made before a singleton job's blockers are
 * read: a blocker whose end commits first is then read ended; one that ends later waits for this lock and returns
 * the mark. Jobs without a singleton condition cost nothing but the statement.
 */
export async function markSingletonBlockers(tx: Database, jobIds: readonly number[]): Promise<void> {
  if (jobIds.length === 0) return;
  await queryRows(
    tx,
    sql`WITH blocker AS (
          SELECT r.id FROM jobs r, jobs c
          WHERE c.id = ANY(${bigintArray(jobIds)})
            AND EXISTS (SELECT 1 FROM job_dependencies s WHERE s.job_id = c.id AND s.kind = 'singleton')
            AND ${singletonBlocker(sql`r`, sql`c`)} AND NOT r.has_dependents
          ORDER BY r.id FOR NO KEY UPDATE OF r
        )
        UPDATE jobs SET has_dependents = true FROM blocker WHERE jobs.id = blocker.id`,
  );
}

/**
 * Each job's verdict, from its stored conditions and, for singleton, whether a job of its name and user blocks it
 * (singletonBlocker, its blockers marked first: markSingletonBlockers):
 * with "," every condition must hold and one that never can dooms it; with "?" one that holds is enough and it is
 * doomed only when none ever can. Answers the verdict and kill_on_invalid of each job that has conditions.
 */
export async function judgeJobs(
  tx: Database,
  jobIds: readonly number[],
): Promise<{ id: number; verdict: JobVerdict; killOnInvalid: boolean }[]> {
  if (jobIds.length === 0) return [];
  await markSingletonBlockers(tx, jobIds);
  const rows = await queryRows(
    tx,
    sql`SELECT c.id, bool_or(d.any_of) AS any_of, bool_and(d.kill_on_invalid) AS kill_on_invalid, count(*) AS n,
               count(*) FILTER (WHERE d.satisfied OR (d.kind = 'singleton' AND NOT EXISTS (
                 SELECT 1 FROM jobs r WHERE ${singletonBlocker(sql`r`, sql`c`)}))) AS held,
               count(*) FILTER (WHERE d.satisfied = false) AS failed
        FROM jobs c JOIN job_dependencies d ON d.job_id = c.id
        WHERE c.id = ANY(${bigintArray(jobIds)})
        GROUP BY c.id ORDER BY c.id`,
  );
  return rows.map((row) => {
    const [n, held, failed] = [Number(row.n), Number(row.held), Number(row.failed)];
    const any = row.any_of === true;
    const verdict: JobVerdict = (any ? held > 0 : held === n)
      ? 'release'
      : (any ? failed === n : failed > 0)
        ? 'never'
        : 'wait';
    return { id: Number(row.id), verdict, killOnInvalid: row.kill_on_invalid === true };
  });
}

/**
 * The condition that job `r` blocks the singleton job `c` (SQL aliases of jobs rows): sbatch(1), singleton: "after any
 * previously launched jobs sharing the same job name and user have terminated". Slurm counts a job of that name and
 * user RUNNING, or PENDING and submitted before it (a lower id), whether or not that one asked for singleton.
 */
export function singletonBlocker(r: SQL, c: SQL): SQL {
  return sql`${r}.name = ${c}.name AND ${r}.unix_user IS NOT DISTINCT FROM ${c}.unix_user AND ${r}.id <> ${c}.id
    AND (${r}.state = 'RUNNING' OR (${r}.state = 'PENDING' AND ${r}.id < ${c}.id))`;
}
