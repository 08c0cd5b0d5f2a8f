import { and, asc, desc, eq } from 'drizzle-orm';
import type { Database } from '../../shared/db/database.js';
import { jobs } from '../../shared/db/schema.js';
import { countJobs, type JobCount } from '../jobs/count-jobs.js';
import { readNodeUsage, type NodeUsage } from '../nodes/node-usage.js';

/** How many running and pending jobs the dashboard lists; the counts cover them all. */
export const DASHBOARD_LIST_LIMIT = 100;

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
  const [counts, nodeUsage, running, pending] = await Promise.all([
    countJobs(db, account),
    readNodeUsage(db),
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
  return {
    counts,
    nodes: nodeUsage,
    running,
    pending,
  };
}
