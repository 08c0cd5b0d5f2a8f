import { eq, sql } from 'drizzle-orm';
import type { Database } from '../../shared/db/database.js';
import { nodes, type NodeRow } from '../../shared/db/schema.js';
import { NodeNotFound } from '../http/errors.js';

/**
 * Drain (take no new work, finish what runs) or resume a node, by an admin. The drain is kept apart from liveness: a
 * DOWN node stays DOWN until it heartbeats, and then comes back DRAINING if it was drained. DOWN: the admin declares
 * the node lost: its lease ends now, and the reconciler settles its jobs at its next run (settle-lost-nodes.ts).
 */
export async function setNodeState(db: Database, name: string, state: 'UP' | 'DRAINING' | 'DOWN'): Promise<NodeRow> {
  const [row] = await db
    .update(nodes)
    .set(
      state === 'DOWN'
        ? { state: 'DOWN', leaseExpiresAt: sql`now()` }
        : {
            drained: state === 'DRAINING',
            state: sql`CASE WHEN ${nodes.state} = 'DOWN' THEN 'DOWN' ELSE ${state} END`,
          },
    )
    .where(eq(nodes.name, name))
    .returning();
  if (!row) throw new NodeNotFound(name);
  return row;
}
