/**
 * The refs of a job array's tasks that wait in the queue (not held by its %N cap: array-task-limit.ts), for the
 * Redis queue, where a submit pushes refs after its commit (submit-job.ts, afterCommit): one read and one push for
 * the whole array.
 */
import { and, asc, eq, sql } from 'drizzle-orm';
import type { Database } from '../../shared/db/database.js';
import { jobs } from '../../shared/db/schema.js';
import { errorFields, type Logger } from '../../shared/log/logger.js';
import type { JobRef } from '../../shared/queue/job-queue.js';
import { jobRef } from './job-ref.js';
import { notOutOfQueue } from './out-of-queue.js';
import { refColumns } from './push-not-enqueued.js';

const queuedTasks = (arrayJobId: number) =>
  and(eq(jobs.arrayJobId, arrayJobId), eq(jobs.state, 'PENDING'), notOutOfQueue);

/** The refs of the array's PENDING tasks in the queue, in index order. */
export async function queuedTaskRefs(db: Database, arrayJobId: number): Promise<JobRef[]> {
  const rows = await db.select(refColumns).from(jobs).where(queuedTasks(arrayJobId)).orderBy(asc(jobs.arrayTaskId));
  return rows.map(jobRef);
}

/** Notes that the array's refs did not reach the queue, for the reconciler to push (as markNotEnqueued does). */
export async function markTasksNotEnqueued(db: Database, arrayJobId: number, logger: Logger): Promise<void> {
  await db
    .update(jobs)
    .set({ enqueued: sql`false` })
    .where(queuedTasks(arrayJobId))
    .catch((error: Error) =>
      logger.warn('could not mark the array not enqueued', { job_id: arrayJobId, ...errorFields(error) }),
    );
}
