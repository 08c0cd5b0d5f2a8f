import { and, asc, desc, eq } from 'drizzle-orm';
import type { Database } from '../../shared/db/database.js';
import { jobs } from '../../shared/db/schema.js';
import { countJobs, type JobCount } from '../jobs/count-jobs.js';
import { readNodeUsage, type NodeUsage } from '../nodes/node-usage.js';

// What the lists show of a job: never the script or environment.
const listed = {
  id: jobs.id,
  name: jobs.name,
  account: jobs.account,
  user: jobs.user,
  state: jobs.state,
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

/**
 * Everything a dashboard shows, read in parallel: exact counts, every node, and the first `listLimit` running jobs
 * (the most recently started) and pending ones (in queue order). Job lists and counts are limited to an account
 * when given.
 */
export async function readDashboard(
  db: Database,
  account: string | undefined,
  listLimit: number,
): Promise<DashboardData> {
  const inAccount = account === undefined ? undefined : eq(jobs.account, account);
  const [counts, nodeUsage, running, pending] = await Promise.all([
    countJobs(db, account),
    readNodeUsage(db),
    db
      .select(listed)
      .from(jobs)
      .where(and(eq(jobs.state, 'RUNNING'), inAccount))
      .orderBy(desc(jobs.startTime), desc(jobs.id))
      .limit(listLimit),
    // Queue order: the order in which the scheduler considers them.
    db
      .select(listed)
      .from(jobs)
      .where(and(eq(jobs.state, 'PENDING'), inAccount))
      .orderBy(desc(jobs.priority), asc(jobs.id))
      .limit(listLimit),
  ]);
  return { counts, nodes: nodeUsage, running, pending };
}
