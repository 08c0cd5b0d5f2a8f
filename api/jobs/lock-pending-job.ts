import { and, eq } from 'drizzle-orm';
import type { Database } from '../../shared/db/database.js';
import { jobs, type JobRow } from '../../shared/db/schema.js';
import { JobNotFound, JobNotPending } from '../http/errors.js';
import { displayId } from './array-task-view.js';

/**
 * Reads a job and locks its row for the caller's transaction, for a change only a PENDING job takes (a hold, a
 * release, an update): a confirm that would start it meanwhile waits for the change, then sees it. Throws
 * JobNotFound (404) for a job missing or of another account than `account` (a user token's), JobNotPending (409,
 * with `why`) for a job that no longer waits, named as squeue names it (`123_7` for an array's task).
 */
export async function lockPendingJob(
  tx: Database,
  id: number,
  account: string | undefined,
  why: string,
): Promise<JobRow> {
  const [job] = await tx
    .select()
    .from(jobs)
    .where(and(eq(jobs.id, id), account === undefined ? undefined : eq(jobs.account, account)))
    .for('update');
  if (!job) throw new JobNotFound(String(id));
  if (job.state !== 'PENDING') throw new JobNotPending(displayId(job), job.state, why);
  return job;
}
