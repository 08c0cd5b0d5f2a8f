import { eq } from 'drizzle-orm';
import type { Database } from '../../shared/db/database.js';
import { nodes, type NodeState } from '../../shared/db/schema.js';

/** A node's state, or undefined for a node that never sent a heartbeat. */
export async function readNodeState(db: Database, name: string): Promise<NodeState | undefined> {
  const [row] = await db.select({ state: nodes.state }).from(nodes).where(eq(nodes.name, name));
  return row?.state;
}
