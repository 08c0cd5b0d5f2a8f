/**
 * Whether a node runs a job of an owner (shared/protocol/runs-as.ts, runsJobOf), in SQL over the nodes table's
 * runs_* columns: its heartbeat's word, which the confirm holds a claim to, whatever the queue handed out.
 */
import { sql, type SQL } from 'drizzle-orm';
import type { Database } from '../../shared/db/database.js';
import { bigintArray } from '../../shared/db/pg-array.js';
import { queryRows } from '../../shared/db/query-rows.js';

/** True when the node row `node` (an alias) runs a job owned by `owner` (an SQL expression, NULL for none). */
export function nodeRunsOwner(node: string, owner: SQL): SQL {
  const n = sql.identifier(node);
  return sql`CASE WHEN ${owner} IS NULL THEN ${n}.runs_unnamed
                  ELSE ${n}.runs_any_user OR ${owner} = ANY(${n}.runs_users) END`;
}

/** Of these jobs, the ones whose owner the node does not run (every one, for a node never seen). */
export async function jobsNotRunBy(db: Database, node: string, ids: number[]): Promise<number[]> {
  if (ids.length === 0) return [];
  const rows = await queryRows(
    db,
    sql`SELECT j.id FROM jobs j LEFT JOIN nodes n ON n.name = ${node}
        WHERE j.id = ANY(${bigintArray(ids)}) AND NOT coalesce(${nodeRunsOwner('n', sql`j.unix_user`)}, false)
        ORDER BY j.id`,
  );
  return rows.map((row) => Number(row.id));
}
