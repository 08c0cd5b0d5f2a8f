import { eq } from 'drizzle-orm';
import type { Database } from '../../shared/db/database.js';
import { nodes } from '../../shared/db/schema.js';
import type { NodeState } from '../../shared/node-state.js';

/** A node's state, or undefined for a node that never sent a heartbeat. */
export async function readNodeState(db: Database, name: string): Promise<NodeState | undefined> {
  const [row] = await db.select({ state: nodes.state }).from(nodes).where(eq(nodes.name, name));
  return row?.state;
}
