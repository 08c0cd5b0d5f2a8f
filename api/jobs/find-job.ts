import { and, eq } from 'drizzle-orm';
import type { Database } from '../../shared/db/database.js';
import { jobs, type JobRow } from '../../shared/db/schema.js';
import { JobNotFound } from '../http/errors.js';

/**
 * A job by id: its integer id (42), or an array task's as Slurm shows it, `<array_job_id>_<array_task_id>` (123_7). A
 * user token's account must own it, and another account's job is as absent as a missing one. Throws JobNotFound (404).
 */
export async function findJob(db: Database, id: number | string, account: string | undefined): Promise<JobRow> {
  const [arrayJobId, taskId] = String(id).split('_');
  const which =
    taskId === undefined
      ? eq(jobs.id, Number(arrayJobId))
      : and(eq(jobs.arrayJobId, Number(arrayJobId)), eq(jobs.arrayTaskId, Number(taskId)));
  const [job] = await db
    .select()
    .from(jobs)
    .where(and(which, account === undefined ? undefined : eq(jobs.account, account)));
  if (!job) throw new JobNotFound(String(id));
  return job;
}
