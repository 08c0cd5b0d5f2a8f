import { and, eq, isNotNull, sql } from 'drizzle-orm';
import type { Database } from '../../shared/db/database.js';
import { jobs, nodes, type NodeState } from '../../shared/db/schema.js';

export interface Heartbeat {
  node: string;
  partitions: string[];
  cpus: number;
  memoryMb: number;
}

/**
 * Registers a node on its first heartbeat and notes each later one, with its capacity as it reports it. A DOWN node
 * that speaks again is UP (its jobs were settled when it went down); a DRAINING one stays DRAINING until resumed.
 * Answers the node's state and the RUNNING jobs on it whose cancel was asked for: how a cancel reaches the node.
 */
export async function recordHeartbeat(
  db: Database,
  beat: Heartbeat,
): Promise<{ state: NodeState; cancel: { jobId: number; attempt: number }[] }> {
  const [row] = await db
    .insert(nodes)
    .values({
      name: beat.node,
      partitions: beat.partitions,
      cpus: beat.cpus,
      memoryMb: beat.memoryMb,
      state: 'UP',
      lastHeartbeat: sql`now()`,
    })
    .onConflictDoUpdate({
      target: nodes.name,
      set: {
        partitions: beat.partitions,
        cpus: beat.cpus,
        memoryMb: beat.memoryMb,
        lastHeartbeat: sql`now()`,
        state: sql`CASE WHEN ${nodes.state} = 'DOWN' THEN 'UP' ELSE ${nodes.state} END`,
      },
    })
    .returning({ state: nodes.state });
  const cancel = await db
    .select({ jobId: jobs.id, attempt: jobs.attempt })
    .from(jobs)
    .where(and(eq(jobs.nodeName, beat.node), eq(jobs.state, 'RUNNING'), isNotNull(jobs.cancelRequestedAt)));
  return { state: row!.state, cancel };
}
