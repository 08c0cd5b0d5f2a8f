/**
 * The job a hold, release or update names: a job's id, or an array task's as Slurm shows it (123_7). A job array's
 * own id names the whole array (as in scancel), which these act on one task at a time here: refused, naming the form
 * that works, rather than acting on the array's first task alone.
 */
import type { Principal } from '../auth/principal.js';
import { accountScope } from '../auth/principal.js';
import { ValidationFailed } from '../http/errors.js';
import type { Database } from '../../shared/db/database.js';
import { findJob } from './find-job.js';

/**
 * The integer id of the job `id` (a path's `{id}`) names, seen as `principal` sees it. Throws JobNotFound (404) for a
 * job it cannot see, ValidationFailed (422, field `id`) for a job array's own id.
 */
export async function singleJobId(db: Database, principal: Principal, id: string, action: string): Promise<number> {
  const job = await findJob(db, id, accountScope(principal));
  if (!id.includes('_') && job.arrayJobId === job.id) {
    throw new ValidationFailed([
      {
        field: 'id',
        message: `${id} is a job array: ${action} one task at a time, by its id as Slurm shows it (${id}_N)`,
      },
    ]);
  }
  return job.id;
}
