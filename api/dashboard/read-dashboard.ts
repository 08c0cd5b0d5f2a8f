import { and, asc, desc, eq, sql } from 'drizzle-orm';
import type { Database } from '../../shared/db/database.js';
import { jobs, nodes, type NodeRow } from '../../shared/db/schema.js';
import { countJobs, type JobCount } from '../jobs/count-jobs.js';

/** How many running and pending jobs the dashboard lists; the counts cover them all. */
export const DASHBOARD_LIST_LIMIT = 100;

export interface NodeUsage {
  node: NodeRow;
  cpusAllocated: number;
  memoryAllocatedMb: number;
}

// What the lists show of a job: never the script or environment.
const listed = {
  id: jobs.id,
  name: jobs.name,
  account: jobs.account,
  partition: jobs.partition,
  priority: jobs.priority,
  reason: jobs.reason,
  cpus: jobs.cpus,
  memoryMb: jobs.memoryMb,
  nodeName: jobs.nodeName,
  submitTime: jobs.submitTime,
  startTime: jobs.startTime,
};

export type DashboardJob = { [K in keyof typeof listed]: (typeof jobs.$inferSelect)[K] };

export interface DashboardData {
  counts: JobCount[];
  nodes: NodeUsage[];
  running: DashboardJob[];
  pending: DashboardJob[];
}

/** Everything the dashboard shows, read in parallel. Job lists and counts are limited to an account when given. */
export async function readDashboard(db: Database, account: string | undefined): Promise<DashboardData> {
  const inAccount = account === undefined ? undefined : eq(jobs.account, account);
  const [counts, nodeRows, usage, running, pending] = await Promise.all([
    countJobs(db, account),
    db.select().from(nodes).orderBy(asc(nodes.name)),
    db
      .select({
        nodeName: jobs.nodeName,
        cpus: sql<number>`sum(${jobs.cpus})::int`,
        // float8: a sum of megabytes can pass the int4 range, and bigint would come back as text.
        memoryMb: sql<number>`sum(${jobs.memoryMb})::float8`,
      })
      .from(jobs)
      .where(eq(jobs.state, 'RUNNING'))
      .groupBy(jobs.nodeName),
    db
      .select(listed)
      .from(jobs)
      .where(and(eq(jobs.state, 'RUNNING'), inAccount))
      .orderBy(asc(jobs.startTime), asc(jobs.id))
      .limit(DASHBOARD_LIST_LIMIT),
    // Queue order: the order in which the scheduler considers them.
    db
      .select(listed)
      .from(jobs)
      .where(and(eq(jobs.state, 'PENDING'), inAccount))
      .orderBy(desc(jobs.priority), asc(jobs.id))
      .limit(DASHBOARD_LIST_LIMIT),
  ]);
  const byNode = new Map(usage.map((row) => [row.nodeName, row]));
  return {
    counts,
    nodes: nodeRows.map((node) => ({
      node,
      cpusAllocated: byNode.get(node.name)?.cpus ?? 0,
      memoryAllocatedMb: byNode.get(node.name)?.memoryMb ?? 0,
    })),
    running,
    pending,
  };
}
