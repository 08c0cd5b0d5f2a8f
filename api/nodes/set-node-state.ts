import { eq, sql } from 'drizzle-orm';
import type { Database } from '../../shared/db/database.js';
import { nodes, type NodeRow } from '../../shared/db/schema.js';
import { NodeNotFound } from '../http/errors.js';

/** Who drains a node, and why (a drain's reason is optional here; scontrol requires one). */
export interface DrainReason {
  reason: string | null;
  /** The actor: `admin:<token name>`. */
  by: string;
}

/**
 * Drain (take no new work, finish what runs) or resume a node, by an admin. The drain is kept apart from liveness: a
 * DOWN node stays DOWN until it heartbeats, and then comes back DRAINING if it was drained. A drain records its
 * reason, who drained and when (a drain again replaces them), a resume clears them, as scontrol does. DOWN: the admin
 * declares the node lost: its lease ends now, and the reconciler settles its jobs at its next run
 * (settle-lost-nodes.ts).
 */
export async function setNodeState(
  db: Database,
  name: string,
  change: { state: 'DRAINING'; drain: DrainReason } | { state: 'UP' | 'DOWN' },
): Promise<NodeRow> {
  const { state } = change;
  const reason =
    change.state === 'DRAINING'
      ? { reason: change.drain.reason, reasonUser: change.drain.by, reasonAt: sql`now()` }
      : { reason: null, reasonUser: null, reasonAt: null };
  const [row] = await db
    .update(nodes)
    .set(
      state === 'DOWN'
        ? { state: 'DOWN', leaseExpiresAt: sql`now()` }
        : {
            drained: state === 'DRAINING',
            state: sql`CASE WHEN ${nodes.state} = 'DOWN' THEN 'DOWN' ELSE ${state} END`,
            ...reason,
          },
    )
    .where(eq(nodes.name, name))
    .returning();
  if (!row) throw new NodeNotFound(name);
  return row;
}
