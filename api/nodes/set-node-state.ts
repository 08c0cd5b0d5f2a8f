import { eq, sql } from 'drizzle-orm';
import type { Database } from '../../shared/db/database.js';
import { nodes, type NodeRow } from '../../shared/db/schema.js';
import { NodeNotFound } from '../http/errors.js';

/**
 * Drain (take no new work, finish what runs) or resume a node, by an admin. A DOWN node stays DOWN: it comes back
 * by heartbeating, then can be drained.
 */
export async function setNodeState(db: Database, name: string, state: 'UP' | 'DRAINING'): Promise<NodeRow> {
  const [row] = await db
    .update(nodes)
    .set({ state: sql`CASE WHEN ${nodes.state} = 'DOWN' THEN 'DOWN' ELSE ${state} END` })
    .where(eq(nodes.name, name))
    .returning();
  if (!row) throw new NodeNotFound(name);
  return row;
}
