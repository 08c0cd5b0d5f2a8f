import { and, asc, desc, eq, gte, inArray, lt, sql, type SQL } from 'drizzle-orm';
import type { Database } from '../../shared/db/database.js';
import { jobs } from '../../shared/db/schema.js';
import type { JobState } from '../../shared/job/job-state.js';
import { notCollapsed } from './array-collapse.js';
import { summaryColumns, type JobSummaryRow } from './job-summary.js';
import type { ListPosition } from './list-cursor.js';
import { pendingRank, type QueuePosition } from './queue-order.js';

export interface JobFilter {
  states?: JobState[] | undefined;
  account?: string | undefined;
  /** The owner's login name. */
  user?: string | undefined;
  partition?: string | undefined;
  name?: string | undefined;
  /** Half-open ranges, as sacct's --starttime/--endtime: after ≤ time < before. */
  endedAfter?: Date | undefined;
  endedBefore?: Date | undefined;
  submittedAfter?: Date | undefined;
  submittedBefore?: Date | undefined;
  /** List an array's PENDING tasks as one row, as squeue does without -r (array-collapse.ts). */
  collapseArrays?: boolean | undefined;
}

export interface JobPage {
  jobs: JobSummaryRow[];
  /** Where the next page starts; null on the last. */
  next: ListPosition | null;
}

/** What every order filters on: the filter's fields, each left out when not given. */
export function filterCondition(filter: JobFilter): SQL | undefined {
  return and(
    filter.states?.length ? inArray(jobs.state, filter.states) : undefined,
    filter.account === undefined ? undefined : eq(jobs.account, filter.account),
    filter.user === undefined ? undefined : eq(jobs.user, filter.user),
    filter.partition === undefined ? undefined : eq(jobs.partition, filter.partition),
    filter.name === undefined ? undefined : eq(jobs.name, filter.name),
    filter.endedAfter === undefined ? undefined : gte(jobs.endTime, filter.endedAfter),
    filter.endedBefore === undefined ? undefined : lt(jobs.endTime, filter.endedBefore),
    filter.submittedAfter === undefined ? undefined : gte(jobs.submitTime, filter.submittedAfter),
    filter.submittedBefore === undefined ? undefined : lt(jobs.submitTime, filter.submittedBefore),
    filter.collapseArrays ? notCollapsed : undefined,
  );
}

/** Newest first (by id), `limit` jobs after `beforeId` (exclusive) when given. */
export async function listJobs(
  db: Database,
  filter: JobFilter,
  limit: number,
  beforeId?: number | undefined,
): Promise<JobPage> {
  const rows = await db
    .select(summaryColumns)
    .from(jobs)
    .where(and(filterCondition(filter), beforeId === undefined ? undefined : lt(jobs.id, beforeId)))
    .orderBy(desc(jobs.id))
    .limit(limit + 1);
  const page = rows.slice(0, limit);
  return { jobs: page, next: rows.length > limit ? { order: 'newest', beforeId: page.at(-1)!.id } : null };
}

/**
 * Queue order (api/jobs/queue-order.ts): the RUNNING jobs, then the PENDING ones, `limit` at a time after `after`.
 * Jobs in other states are never listed in it. Each part is its own keyset query, so a page deep in 10,000 pending
 * jobs reads one range of index jobs_queue_rank, not the jobs before it.
 */
export async function listQueue(
  db: Database,
  filter: JobFilter,
  limit: number,
  after?: QueuePosition | undefined,
): Promise<JobPage> {
  const wanted = (state: JobState) => !filter.states?.length || filter.states.includes(state);
  const where = filterCondition({ ...filter, states: undefined });
  const running =
    wanted('RUNNING') && after?.phase !== 'PENDING'
      ? await db
          .select(summaryColumns)
          .from(jobs)
          .where(and(where, eq(jobs.state, 'RUNNING'), after === undefined ? undefined : sql`${jobs.id} > ${after.id}`))
          .orderBy(asc(jobs.id))
          .limit(limit + 1)
      : [];
  if (running.length > limit) {
    const page = running.slice(0, limit);
    return { jobs: page, next: { order: 'queue', after: { phase: 'RUNNING', id: page.at(-1)!.id } } };
  }
  const room = limit - running.length;
  const pending = wanted('PENDING')
    ? await db
        .select({ ...summaryColumns, rank: pendingRank })
        .from(jobs)
        .where(
          and(
            where,
            eq(jobs.state, 'PENDING'),
            after?.phase === 'PENDING' ? sql`(${pendingRank}, ${jobs.id}) > (${after.rank}, ${after.id})` : undefined,
          ),
        )
        .orderBy(pendingRank, asc(jobs.id))
        .limit(room + 1)
    : [];
  const taken = pending.slice(0, room).map(({ rank: _rank, ...job }) => job);
  const last = pending[room - 1];
  return {
    jobs: [...running, ...taken],
    next:
      pending.length > room
        ? room === 0
          ? { order: 'queue', after: { phase: 'RUNNING', id: running.at(-1)!.id } }
          : { order: 'queue', after: { phase: 'PENDING', rank: Number(last!.rank), id: last!.id } }
        : null,
  };
}
