/**
 * What a hold, release or update names (scontrol(1)): a job's id, an array task's as Slurm shows it (123_7), or a
 * job array's own id (its first task's), which names the whole array, as in `scontrol hold 123` and in scancel.
 */
import type { Principal } from '../auth/principal.js';
import { accountScope } from '../auth/principal.js';
import type { Database } from '../../shared/db/database.js';
import { findJob } from './find-job.js';

/** One job (integer id), or a whole array (its array job id). */
export type JobTarget = { job: number } | { array: number };

/**
 * The target `id` (a path's `{id}`) names, seen as `principal` sees it. Throws JobNotFound (404) for a job it cannot
 * see (another account's array is as absent as a missing one).
 */
export async function jobTarget(db: Database, principal: Principal, id: string): Promise<JobTarget> {
  const job = await findJob(db, id, accountScope(principal));
  if (!id.includes('_') && job.arrayJobId === job.id) return { array: job.id };
  return { job: job.id };
}
