/**
 * A job array's submit (sbatch --array; issue 20, item 3): every task is a job of its own, with its own integer id,
 * so each is claimed, run, cancelled and shown as any job (and the original paths' integer ids keep working). The
 * first task is inserted as any job is (insert-job.ts: its priority computed, its event, its ref on the Postgres
 * queue); the others are copies of it made by one INSERT … SELECT over the remaining indexes, with their events and
 * (Postgres queue) refs in the same statement, so 10,000 tasks cost three statements, not 10,000. Each task's
 * array_job_id is the first task's id (Slurm's ArrayJobId) and array_task_id its index.
 *
 * A `%N` cap keeps at most N tasks in the queue or running at once (array-task-limit.ts): the tasks past the first N
 * are inserted PENDING with reason JobArrayTaskLimit and no ref, and a task's end releases the next. An array
 * submitted held, with a begin time or a dependency has every task in that wait (and no ref).
 */
import { eq, getTableColumns, sql } from 'drizzle-orm';
import type { Database } from '../../shared/db/database.js';
import { intArray } from '../../shared/db/pg-array.js';
import { queryRows } from '../../shared/db/query-rows.js';
import { jobs } from '../../shared/db/schema.js';
import { formatIndexes } from '../../shared/job/array-spec.js';
import type { JobSpec } from '../../shared/job/submit-request.js';
import { insertJob } from './insert-job.js';
import { summaryColumns, type JobSummaryRow } from './job-summary.js';

/** Columns a task takes from its array's first task: all but its identity and what the array sets per task. */
const COPIED = Object.values(getTableColumns(jobs))
  .map((column) => column.name)
  .filter((name) => !['id', 'array_job_id', 'array_task_id', 'reason', 'enqueued'].includes(name));
const copied = sql.raw(COPIED.join(', '));
const copiedFromFirst = sql.raw(COPIED.map((name) => `first.${name}`).join(', '));

/**
 * Inserts the array `spec.array` describes (non-null) as insertJob inserts one job (same options), in one
 * transaction (a savepoint inside a caller's). Answers its first task, whose id is the array's id.
 */
export async function insertArray(
  db: Database,
  spec: JobSpec & { array: NonNullable<JobSpec['array']> },
  actor: string,
  options: Parameters<typeof insertJob>[3],
): Promise<JobSummaryRow> {
  const { indexes, limit } = spec.array;
  return db.transaction(async (tx) => {
    const first = await insertJob(tx, spec, actor, options);
    await queryRows(
      tx,
      sql`WITH first AS (
            UPDATE jobs SET array_job_id = id, array_task_id = ${indexes[0]!},
                            array_indexes = ${formatIndexes(indexes)}, array_task_limit = ${limit}::int
            WHERE id = ${first.id} RETURNING *
          ), tasks AS (
            INSERT INTO jobs (${copied}, array_job_id, array_task_id, reason, enqueued)
            SELECT ${copiedFromFirst}, first.id, task.index,
                   -- A wait the first task starts in (a hold, a begin time, a dependency) is every task's.
                   -- Else the first task is the cap's first: ordinality 1 here is the array's second index.
                   CASE WHEN first.reason <> 'Priority' THEN first.reason
                        WHEN first.array_task_limit IS NULL OR task.n < first.array_task_limit THEN 'Priority'
                        ELSE 'JobArrayTaskLimit' END,
                   true
            FROM first, unnest(${intArray(indexes.slice(1))}) WITH ORDINALITY AS task(index, n)
            ORDER BY task.n
            RETURNING id, attempt, state, reason, partition, cpus, memory_mb, priority, exclusive, unix_user,
                      time_limit_seconds
          ), submitted AS (
            INSERT INTO job_events (job_id, attempt, from_state, to_state, actor, reason)
            SELECT id, attempt, NULL, state, ${actor}, 'submitted' FROM tasks
          )
          ${options.withRef ? refsOf(sql`tasks`) : sql``}
          SELECT count(*) FROM tasks`,
    );
    const [row] = await tx.select(summaryColumns).from(jobs).where(eq(jobs.id, first.id));
    return row!;
  });
}

/** The Postgres queue's refs of the tasks in the queue (not held by the cap), written in the array's statement. */
function refsOf(tasks: ReturnType<typeof sql>) {
  return sql`, queued AS (
      INSERT INTO queue_refs (job_id, partition, cpus, memory_mb, priority, exclusive, unix_user, time_limit_seconds)
      SELECT id, partition, cpus, memory_mb, priority, exclusive, unix_user, time_limit_seconds
      FROM ${tasks} WHERE reason = 'Priority'
    )`;
}
