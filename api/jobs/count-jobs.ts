import { eq, sql } from 'drizzle-orm';
import type { Database } from '../../shared/db/database.js';
import { jobs } from '../../shared/db/schema.js';
import type { JobState } from '../../shared/job/job-state.js';

export interface JobCount {
  state: JobState;
  partition: string;
  count: number;
}

/** Exact counts per state and partition (no estimate, no cap), for one account or all. */
export async function countJobs(db: Database, account: string | undefined): Promise<JobCount[]> {
  return db
    .select({ state: jobs.state, partition: jobs.partition, count: sql<number>`count(*)::int` })
    .from(jobs)
    .where(account === undefined ? undefined : eq(jobs.account, account))
    .groupBy(jobs.state, jobs.partition);
}
