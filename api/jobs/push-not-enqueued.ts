import { and, asc, eq, sql } from 'drizzle-orm';
import type { Database } from '../../shared/db/database.js';
import { bigintArray } from '../../shared/db/pg-array.js';
import { jobs } from '../../shared/db/schema.js';
import { errorFields } from '../../shared/log/logger.js';
import type { JobQueue, JobRef } from '../../shared/queue/job-queue.js';
import { notOutOfQueue } from './out-of-queue.js';
import type { Services } from '../app-env.js';
import { jobRef } from './job-ref.js';

/** The columns of a job's ref (job-ref.ts). */
export const refColumns = {
  id: jobs.id,
  partition: jobs.partition,
  cpus: jobs.cpus,
  memoryMb: jobs.memoryMb,
  priority: jobs.priority,
  exclusive: jobs.exclusive,
  user: jobs.user,
  timeLimitSeconds: jobs.timeLimitSeconds,
};

/**
 * Pushes the refs owed to the queue: PENDING jobs marked not enqueued (a push that failed at submit, a requeue, a job
 * an account limit released; never one a stored wait holds: out-of-queue.ts), at most `limit`, oldest first, then marks them enqueued. Answers the refs it pushed.
 * Pushing twice is harmless (the queue keeps one ref), so the reconciler and a route may both do it. Throws what the
 * queue throws; the jobs stay marked then, for the next try.
 */
export async function pushNotEnqueued(db: Database, queue: JobQueue, limit: number): Promise<JobRef[]> {
  const rows = await db
    .select(refColumns)
    .from(jobs)
    .where(and(eq(jobs.state, 'PENDING'), eq(jobs.enqueued, false), notOutOfQueue))
    .orderBy(asc(jobs.id))
    .limit(limit);
  if (rows.length === 0) return [];
  const refs = rows.map(jobRef);
  await queue.enqueue(refs);
  const ids = rows.map((row) => row.id);
  // One array parameter, not a placeholder per id: a released array's thousands of tasks are one cheap statement.
  await db
    .update(jobs)
    .set({ enqueued: true })
    .where(sql`${jobs.id} = ANY(${bigintArray(ids)})`);
  return refs;
}

/**
 * After a commit that may have marked jobs not enqueued (a run's end releasing held jobs, a requeue): pushes them now
 * and wakes the nodes of their partitions, rather than at the reconciler's next run. A queue that fails is left to the
 * reconciler: the jobs stay marked.
 */
export async function pushOwedRefs(
  db: Database,
  { queue, onWork, logger }: Pick<Services, 'queue' | 'onWork' | 'logger'>,
  limit = 1000,
): Promise<void> {
  try {
    const refs = await pushNotEnqueued(db, queue, limit);
    for (const partition of new Set(refs.map((ref) => ref.partition))) onWork(partition);
  } catch (error) {
    logger.warn('owed refs not pushed, the reconciler will retry', errorFields(error));
  }
}
