import { asc, eq, sql } from 'drizzle-orm';
import type { Database } from '../../shared/db/database.js';
import { jobs, nodes, type NodeRow } from '../../shared/db/schema.js';

export interface NodeUsage {
  node: NodeRow;
  cpusAllocated: number;
  memoryAllocatedMb: number;
  /** How many of its jobs are RUNNING. */
  runningJobs: number;
}

/** Every registered node, by name, with its RUNNING jobs: how many, and what they hold of it. */
export async function readNodeUsage(db: Database): Promise<NodeUsage[]> {
  const [nodeRows, usage] = await Promise.all([
    db.select().from(nodes).orderBy(asc(nodes.name)),
    db
      .select({
        nodeName: jobs.nodeName,
        cpus: sql<number>`sum(${jobs.cpus})::int`,
        // float8: a sum of megabytes can pass the int4 range, and bigint would come back as text.
        memoryMb: sql<number>`sum(${jobs.memoryMb})::float8`,
        count: sql<number>`count(*)::int`,
      })
      .from(jobs)
      .where(eq(jobs.state, 'RUNNING'))
      .groupBy(jobs.nodeName),
  ]);
  const byNode = new Map(usage.map((row) => [row.nodeName, row]));
  return nodeRows.map((node) => ({
    node,
    cpusAllocated: byNode.get(node.name)?.cpus ?? 0,
    memoryAllocatedMb: byNode.get(node.name)?.memoryMb ?? 0,
    runningJobs: byNode.get(node.name)?.count ?? 0,
  }));
}

/** How much of one resource the cluster has: what its nodes hold and what new work could still get. */
export interface Capacity {
  /** Of the nodes that are not DOWN. */
  total: number;
  /** Held by RUNNING jobs on those nodes. */
  allocated: number;
  /** Free on UP nodes: a DRAINING node takes no new work, a DOWN one offers nothing. */
  idle: number;
}

/** The cluster's capacity of the resource `pick` reads from each node: its total and what its jobs hold of it. */
export function clusterCapacity(
  usages: NodeUsage[],
  pick: (usage: NodeUsage) => { total: number; allocated: number },
): Capacity {
  const capacity: Capacity = { total: 0, allocated: 0, idle: 0 };
  for (const usage of usages) {
    if (usage.node.state === 'DOWN') continue;
    const { total, allocated } = pick(usage);
    capacity.total += total;
    capacity.allocated += allocated;
    if (usage.node.state === 'UP') capacity.idle += Math.max(0, total - allocated);
  }
  return capacity;
}
