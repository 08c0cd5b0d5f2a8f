import { eq } from 'drizzle-orm';
import type { Database } from '../../shared/db/database.js';
import { jobs } from '../../shared/db/schema.js';
import { errorFields, type Logger } from '../../shared/log/logger.js';

/**
 * Notes that a job's ref did not reach the queue, for the reconciler. If even this write fails, the reconciler's
 * sweep of PENDING jobs the queue does not hold still finds the job.
 */
export async function markNotEnqueued(db: Database, id: number, logger: Logger): Promise<void> {
  await db
    .update(jobs)
    .set({ enqueued: false })
    .where(eq(jobs.id, id))
    .catch((error: Error) => logger.warn('could not mark the job not enqueued', { job_id: id, ...errorFields(error) }));
}
