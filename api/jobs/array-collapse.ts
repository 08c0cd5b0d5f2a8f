/**
 * A listing's job arrays as squeue shows them (squeue(1), -r/--array): by default an array's PENDING tasks are one
 * row, `123_[8-999%50]` (its lowest-indexed PENDING task stands for them all), while its tasks that run or ended are
 * rows of their own; expanded, every task is a row. The rows left out are left out by the listing's own statement
 * (collapsedTasks), so pages and cursors stay exact.
 */
import { sql } from 'drizzle-orm';
import type { Database } from '../../shared/db/database.js';
import { bigintArray } from '../../shared/db/pg-array.js';
import { queryRows } from '../../shared/db/query-rows.js';
import { formatIndexes } from '../../shared/job/array-spec.js';
import type { JobSummaryRow } from './job-summary.js';

/** The condition that a row is not a PENDING task another PENDING task of its array (a lower index) stands for. */
export const notCollapsed = sql.raw(`NOT (jobs.state = 'PENDING' AND jobs.array_job_id IS NOT NULL AND EXISTS (
    SELECT 1 FROM jobs lower WHERE lower.array_job_id = jobs.array_job_id
      AND lower.array_task_id < jobs.array_task_id AND lower.state = 'PENDING'))`);

/**
 * The display ids of the rows that stand for their arrays' PENDING tasks, by job id: `123_[8-10,12%50]` when more
 * than one task is PENDING (one left is shown as itself, `123_12`). One query for the page.
 */
export async function collapsedDisplayIds(db: Database, rows: readonly JobSummaryRow[]): Promise<Map<number, string>> {
  const standing = rows.filter((row) => row.state === 'PENDING' && row.arrayJobId !== null);
  if (standing.length === 0) return new Map();
  const pending = await queryRows(
    db,
    sql`SELECT array_job_id, array_agg(array_task_id ORDER BY array_task_id) AS indexes FROM jobs
        WHERE array_job_id = ANY(${bigintArray(standing.map((row) => row.arrayJobId!))}) AND state = 'PENDING'
        GROUP BY array_job_id`,
  );
  const byArray = new Map(pending.map((row) => [Number(row.array_job_id), (row.indexes as unknown[]).map(Number)]));
  const ids = new Map<number, string>();
  for (const row of standing) {
    const indexes = byArray.get(row.arrayJobId!) ?? [];
    if (indexes.length > 1) ids.set(row.id, `${row.arrayJobId}_[${formatIndexes(indexes, row.arrayTaskLimit)}]`);
  }
  return ids;
}
