import { and, eq } from 'drizzle-orm';
import type { Database } from '../../shared/db/database.js';
import { jobs, type JobRow } from '../../shared/db/schema.js';
import { JobNotFound } from '../http/errors.js';

/** A job by id; a user token's account must own it, and another account's job is as absent as a missing one. */
export async function findJob(db: Database, id: number, account: string | undefined): Promise<JobRow> {
  const [job] = await db
    .select()
    .from(jobs)
    .where(and(eq(jobs.id, id), account === undefined ? undefined : eq(jobs.account, account)));
  if (!job) throw new JobNotFound(String(id));
  return job;
}
