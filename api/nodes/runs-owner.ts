/**
 * Whether a node runs a job of an owner (shared/protocol/runs-as.ts, runsJobOf), in SQL over the nodes table's
 * runs_* columns: its heartbeat's word, which the confirm holds a claim to, whatever the queue handed out.
 */
import { eq, sql, type SQL } from 'drizzle-orm';
import { nodes } from '../../shared/db/schema.js';
import type { Database } from '../../shared/db/database.js';

/** True when the node row `node` (an alias) runs a job owned by `owner` (an SQL expression, NULL for none). */
export function nodeRunsOwner(node: string, owner: SQL): SQL {
  const n = sql.identifier(node);
  return sql`CASE WHEN ${owner} IS NULL THEN ${n}.runs_unnamed
                  ELSE ${n}.runs_any_user OR ${owner} = ANY(${n}.runs_users) END`;
}

/**
 * Who the node runs a job naming no user as (worker-node/run-as.ts): root on a node that runs any user's jobs (its
 * daemon is root), else its daemon's own login, the one user it lists; null when the node is unknown or lists none.
 */
export async function runsUnnamedAs(db: Database, node: string): Promise<string | null> {
  const [row] = await db
    .select({ anyUser: nodes.runsAnyUser, users: nodes.runsUsers })
    .from(nodes)
    .where(eq(nodes.name, node));
  if (row === undefined) return null;
  return row.anyUser ? 'root' : (row.users[0] ?? null);
}
