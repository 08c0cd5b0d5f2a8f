import { and, eq, sql } from 'drizzle-orm';
import type { Database } from '../../shared/db/database.js';
import { jobs } from '../../shared/db/schema.js';
import { JOB_STATES, type JobState } from '../../shared/job/job-state.js';
import { notCollapsed } from './array-collapse.js';

export interface JobCount {
  state: JobState;
  partition: string;
  count: number;
}

/**
 * Exact counts per state and partition (no estimate, no cap), for one account or all. Every job array task counts,
 * unless `collapseArrays`: then an array's PENDING tasks count as one entry, as the listing shows them by default
 * (array-collapse.ts; squeue(1) without -r).
 */
export async function countJobs(
  db: Database,
  account: string | undefined,
  { collapseArrays = false }: { collapseArrays?: boolean } = {},
): Promise<JobCount[]> {
  return db
    .select({ state: jobs.state, partition: jobs.partition, count: sql<number>`count(*)::int` })
    .from(jobs)
    .where(
      and(account === undefined ? undefined : eq(jobs.account, account), collapseArrays ? notCollapsed : undefined),
    )
    .groupBy(jobs.state, jobs.partition);
}

/** Every state appears, with 0 where no job is in it. */
export function summarize(counts: JobCount[]): { total: number; by_state: Record<JobState, number> } {
  const byState = Object.fromEntries(JOB_STATES.map((state) => [state, 0])) as Record<JobState, number>;
  for (const row of counts) byState[row.state] += row.count;
  return { total: counts.reduce((sum, row) => sum + row.count, 0), by_state: byState };
}
