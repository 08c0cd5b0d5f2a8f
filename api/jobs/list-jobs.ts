import { and, desc, eq, inArray, lt } from 'drizzle-orm';
import type { Database } from '../../shared/db/database.js';
import { jobs } from '../../shared/db/schema.js';
import type { JobState } from '../../shared/job/job-state.js';
import { summaryColumns, type JobSummaryRow } from './job-summary.js';

export interface JobFilter {
  states?: JobState[] | undefined;
  account?: string | undefined;
  /** The owner's login name. */
  user?: string | undefined;
  partition?: string | undefined;
  name?: string | undefined;
  /** Only jobs older than this id: the cursor of the previous page. */
  beforeId?: number | undefined;
  limit: number;
}

/** Newest first; `nextBeforeId` is set when there is more. */
export async function listJobs(
  db: Database,
  filter: JobFilter,
): Promise<{ jobs: JobSummaryRow[]; nextBeforeId: number | null }> {
  const rows = await db
    .select(summaryColumns)
    .from(jobs)
    .where(
      and(
        filter.states?.length ? inArray(jobs.state, filter.states) : undefined,
        filter.account === undefined ? undefined : eq(jobs.account, filter.account),
        filter.user === undefined ? undefined : eq(jobs.user, filter.user),
        filter.partition === undefined ? undefined : eq(jobs.partition, filter.partition),
        filter.name === undefined ? undefined : eq(jobs.name, filter.name),
        filter.beforeId === undefined ? undefined : lt(jobs.id, filter.beforeId),
      ),
    )
    .orderBy(desc(jobs.id))
    .limit(filter.limit + 1);
  const page = rows.slice(0, filter.limit);
  return { jobs: page, nextBeforeId: rows.length > filter.limit ? page.at(-1)!.id : null };
}
