import { sql } from 'drizzle-orm';
import type { Database } from '../../shared/db/database.js';
import { queryRows } from '../../shared/db/query-rows.js';
import type { JobRow } from '../../shared/db/schema.js';
import { toFullJobRow } from './job-columns.js';

/**
 * Makes the claimed jobs that are still PENDING RUNNING on this node, as one conditional statement: a job runs at
 * most once per attempt, whoever else holds a ref to it (DESIGN.md invariant 3). Each start is a new attempt and an
 * event. Answers the started jobs (script included: the node runs them) and the ids it dropped, which were no longer
 * PENDING (cancelled, or started by another ref).
 */
export async function confirmClaims(
  db: Database,
  node: string,
  ids: number[],
  actor: string,
): Promise<{ started: JobRow[]; dropped: number[] }> {
  if (ids.length === 0) return { started: [], dropped: [] };
  const rows = await queryRows(
    db,
    sql`
      WITH started AS (
        UPDATE jobs SET state = 'RUNNING', reason = NULL, node_name = ${node}, start_time = now(), attempt = attempt + 1
        WHERE id = ANY(${`{${ids.join(',')}}`}::bigint[]) AND state = 'PENDING'
          -- Checked in the same statement: a node marked DOWN or drained meanwhile starts nothing.
          AND EXISTS (SELECT 1 FROM nodes WHERE name = ${node} AND state = 'UP')
        RETURNING *
      ), event AS (
        INSERT INTO job_events (job_id, attempt, from_state, to_state, actor, reason)
        SELECT id, attempt, 'PENDING', 'RUNNING', ${actor}, ${`started on ${node}`} FROM started
      )
      SELECT * FROM started ORDER BY id
    `,
  );
  const started = rows.map(toFullJobRow);
  const startedIds = new Set(started.map((job) => job.id));
  return { started, dropped: ids.filter((id) => !startedIds.has(id)) };
}

/**
 * Of these ids, the jobs RUNNING on this node whose start it has not reported yet. A confirm retried after its
 * answer was lost (or by a daemon that died before it could journal the answer) finds its jobs already RUNNING and
 * gets them again: without this the job would be RUNNING on a node that never heard of it.
 */
export async function unreportedRuns(db: Database, node: string, ids: number[]): Promise<JobRow[]> {
  if (ids.length === 0) return [];
  const rows = await queryRows(
    db,
    sql`
      SELECT * FROM jobs
      WHERE id = ANY(${`{${ids.join(',')}}`}::bigint[]) AND state = 'RUNNING' AND node_name = ${node} AND pid IS NULL
      ORDER BY id
    `,
  );
  return rows.map(toFullJobRow);
}
