/**
 * The submit of a job with a dependency (sbatch --dependency): its parents must exist and be visible to the submitter
 * (a user token's own account: another team's job is as unknown as a missing one, so a user learns nothing of it);
 * the job is inserted waiting (reason `Dependency`, no ref on either queue), with its conditions, and settled at once
 * in the same transaction: a dependency its parents already satisfy (finished any time earlier: the truth is in
 * Postgres) releases it before the commit, one they never can cancels it (or keeps it, kill_on_invalid_dep false).
 * The parents are locked until the commit, by the statement that marks them as having dependents (migration 0029), so a
 * parent's end cannot slip between this settle and the commit: its transition waits, then returns the mark and its
 * own settle sees this job. A job can depend only on jobs that exist, which
 * have lower ids (the table's CHECK): no cycle can be made.
 */
import { eq, sql, type SQL } from 'drizzle-orm';
import type { Database } from '../../../shared/db/database.js';
import { bigintArray, intArray } from '../../../shared/db/pg-array.js';
import { queryRows } from '../../../shared/db/query-rows.js';
import { jobs } from '../../../shared/db/schema.js';
import type { Dependency } from '../../../shared/job/dependency.js';
import type { JobSpec } from '../../../shared/job/submit-request.js';
import { insertJobWithinLimits } from '../../accounts/submit-limits.js';
import { ValidationFailed } from '../../http/errors.js';
import { summaryColumns, type JobSummaryRow } from '../job-summary.js';
import { settleDependents } from './settle-dependents.js';
import { lockSingletonNames } from './singleton-locks.js';

/**
 * Inserts the job as insertJobWithinLimits does, or, with a dependency, waiting on it as above. `viewer`: the account
 * whose jobs the submitter sees (a user token's), undefined for an admin. Throws ValidationFailed (422, job.dependency)
 * naming a parent that does not exist or is not the submitter's to see. Answers the job as the commit leaves it
 * (PENDING waiting or released, or CANCELLED); a released job is marked not enqueued, for the caller to push.
 */
export async function insertSubmittedJob(
  db: Database,
  spec: JobSpec,
  actor: string,
  options: Parameters<typeof insertJobWithinLimits>[3],
  viewer: string | undefined,
): Promise<JobSummaryRow> {
  if (spec.dependency === null) return insertJobWithinLimits(db, spec, actor, options);
  return db.transaction(async (tx) => {
    const dependency = await lockParents(tx, spec.dependency!, viewer);
    const singleton = dependency.items.some((item) => item.kind === 'singleton');
    // Before the settle reads whether a job of its name runs: a run ending meanwhile then sees this job (settle-dependents.ts).
    if (singleton) await lockSingletonNames(tx, [{ name: spec.name, user: spec.user }]);
    const job = await insertJobWithinLimits(tx, spec, actor, { ...options, wait: 'Dependency' });
    // An array's every task waits on the conditions (aftercorr reads each task's index).
    await insertConditions(tx, dependency, spec.killOnInvalidDep, sql`id = ${job.id} OR array_job_id = ${job.id}`);
    const tasks = await queryRows(tx, sql`SELECT id FROM jobs WHERE id = ${job.id} OR array_job_id = ${job.id}`);
    await settleDependents(tx, { jobs: tasks.map((task) => Number(task.id)) });
    const [settled] = await tx.select(summaryColumns).from(jobs).where(eq(jobs.id, job.id));
    return settled!;
  });
}

/** Stores the conditions of the jobs `which` selects (a condition on jobs rows): one statement per condition. */
export async function insertConditions(
  tx: Database,
  dependency: Dependency,
  killOnInvalid: boolean,
  which: SQL,
): Promise<void> {
  for (const [position, item] of dependency.items.entries()) {
    await tx.execute(sql`
      INSERT INTO job_dependencies (job_id, position, kind, parent_id, any_of, kill_on_invalid)
      SELECT id, ${position}, ${item.kind}, ${item.parentId}::bigint, ${dependency.combine === 'any'}, ${killOnInvalid}
      FROM jobs WHERE ${which}`);
  }
}

/**
 * Marks the parents (every task of a parent array) as having dependents, locking them in id order until the commit,
 * and answers the dependency with each array task named `123_7` as its own job id. Throws ValidationFailed (422,
 * `field`: job.dependency at submit) naming those the submitter cannot see (the mark is rolled back with the caller's
 * transaction).
 */
export async function lockParents(
  tx: Database,
  named: Dependency,
  viewer: string | undefined,
  field = 'job.dependency',
): Promise<Dependency> {
  const dependency = await resolveTasks(tx, named, viewer, field);
  const ids = [...new Set(dependency.items.flatMap((item) => (item.parentId === null ? [] : [item.parentId])))];
  if (ids.length === 0) return dependency;
  const rows = await queryRows(
    tx,
    sql`WITH locked AS (
          SELECT id FROM jobs WHERE id = ANY(${bigintArray(ids)}) OR array_job_id = ANY(${bigintArray(ids)})
          ORDER BY id FOR NO KEY UPDATE
        )
        UPDATE jobs SET has_dependents = true FROM locked WHERE jobs.id = locked.id
        RETURNING jobs.id, jobs.array_job_id, jobs.account`,
  );
  const seen = new Set<number>();
  for (const row of rows) {
    if (viewer !== undefined && row.account !== viewer) continue;
    seen.add(Number(row.id));
    if (row.array_job_id !== null) seen.add(Number(row.array_job_id));
  }
  const unknown = ids.filter((id) => !seen.has(id));
  if (unknown.length > 0) {
    throw new ValidationFailed([
      {
        field,
        message: `no job ${unknown.join(', ')}${viewer === undefined ? '' : ` in account "${viewer}"`}: a job may depend only on jobs submitted before it`,
      },
    ]);
  }
  return dependency;
}

/** The dependency with its `123_7` parents as the tasks' own job ids; ValidationFailed naming a task not there. */
async function resolveTasks(
  tx: Database,
  dependency: Dependency,
  viewer: string | undefined,
  field: string,
): Promise<Dependency> {
  const named = dependency.items.filter((item) => item.task !== undefined);
  if (named.length === 0) return dependency;
  const rows = await queryRows(
    tx,
    sql`SELECT t.id, t.array_job_id, t.array_task_id FROM jobs t
        JOIN unnest(${bigintArray(named.map((item) => item.parentId!))}, ${intArray(named.map((item) => item.task!))})
          AS ref(array_job_id, array_task_id)
          ON t.array_job_id = ref.array_job_id AND t.array_task_id = ref.array_task_id
        ${viewer === undefined ? sql`` : sql`WHERE t.account = ${viewer}`}`,
  );
  const ids = new Map(rows.map((row) => [`${String(row.array_job_id)}_${String(row.array_task_id)}`, Number(row.id)]));
  const missing = named.map((item) => `${item.parentId}_${item.task}`).filter((task) => !ids.has(task));
  if (missing.length > 0) {
    throw new ValidationFailed([
      {
        field,
        message: `no array task ${missing.join(', ')}${viewer === undefined ? '' : ` in account "${viewer}"`}`,
      },
    ]);
  }
  return {
    combine: dependency.combine,
    items: dependency.items.map(({ kind, parentId, task }) =>
      task === undefined ? { kind, parentId } : { kind, parentId: ids.get(`${parentId}_${task}`)! },
    ),
  };
}
