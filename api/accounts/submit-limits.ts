/**
 * An account's submit-time limits (issue 19, item 2): pending jobs (Slurm's GrpSubmitJobs counts pending and running;
 * here only pending, running being limited at the confirm), submits per minute, and stored output bytes (output whose
 * retention has not deleted it yet: nothing is deleted early to make room). Over one, the submit is refused with a
 * 429 naming the limit and a Retry-After. The count and the insert hold the account's advisory lock in one
 * transaction, so the limits are exact however many API processes submit at once. An account without such a limit
 * (the common case) pays one primary-key read and keeps the one-statement insert.
 */
import { sql } from 'drizzle-orm';
import type { Database } from '../../shared/db/database.js';
import { queryRows } from '../../shared/db/query-rows.js';
import type { JobSpec } from '../../shared/job/submit-request.js';
import { AccountLimitReached, ValidationFailed } from '../http/errors.js';
import { insertArray } from '../jobs/insert-array.js';
import { insertJob } from '../jobs/insert-job.js';
import type { JobSummaryRow } from '../jobs/job-summary.js';
import { lockAccounts } from './account-locks.js';

/** The window of max_submits_per_minute, in seconds. */
const RATE_WINDOW_SECONDS = 60;
/**
 * Retry-After for the pending and stored-bytes limits, in seconds: what frees them (a job starting or ending, a
 * retention pass) has no time the API can compute; half a minute spares the API a client's tight loop.
 */
export const ACCOUNT_LIMIT_RETRY_SECONDS = 30;

/**
 * Inserts the job as insertJob does, once its account's submit-time limits allow it. Throws AccountLimitReached (429,
 * `code` the limit: `max_pending_jobs`, `max_submits_per_minute`, `max_stored_output_bytes`) when one does not. Inside
 * a caller's transaction (the idempotent submit) the lock is held until that transaction ends.
 */
export async function insertJobWithinLimits(
  db: Database,
  spec: JobSpec,
  actor: string,
  options: Parameters<typeof insertJob>[3],
): Promise<JobSummaryRow> {
  // A job array (insert-array.ts) is as many jobs as it has tasks, for these limits as for Slurm's MaxSubmitJobs.
  const insert = (target: Database) =>
    spec.array
      ? insertArray(target, { ...spec, array: spec.array }, actor, options)
      : insertJob(target, spec, actor, options);
  if (!(await hasSubmitLimits(db, spec))) return insert(db);
  return db.transaction(async (tx) => {
    await lockAccounts(tx, [spec.account]);
    await refuseOverLimits(tx, spec.account, spec.array?.indexes.length ?? 1);
    return insert(tx);
  });
}

/**
 * Whether the job's account has a submit-time limit. Throws ValidationFailed (422, job.cpus_per_task) for a job
 * larger than the account's max_running_cpus: it could never start, and would hold its account's smaller jobs
 * behind it (release-held-jobs.ts releases in priority order).
 */
async function hasSubmitLimits(db: Database, spec: JobSpec): Promise<boolean> {
  const [row] = await queryRows(
    db,
    sql`SELECT max_running_cpus, (max_pending_jobs IS NOT NULL OR max_submits_per_minute IS NOT NULL
                                  OR max_stored_output_bytes IS NOT NULL) AS submit_limited
        FROM accounts WHERE name = ${spec.account}`,
  );
  if (!row) return false;
  if (row.max_running_cpus !== null && spec.cpus > Number(row.max_running_cpus)) {
    throw new ValidationFailed([
      {
        field: 'job.cpus_per_task',
        message: `the job asks for ${spec.cpus} CPUs (ntasks_per_node × cpus_per_task); account "${spec.account}" may run at most ${Number(row.max_running_cpus)} at once (max_running_cpus)`,
      },
    ]);
  }
  return row.submit_limited === true;
}

/**
 * Read under the account's lock: the limits as they are now (an admin may have changed them) and the usage, for a
 * submit of `jobs` jobs (an array's tasks).
 */
async function refuseOverLimits(tx: Database, account: string, jobs: number): Promise<void> {
  const window = sql`submit_time > now() - make_interval(secs => ${RATE_WINDOW_SECONDS})`;
  const [row] = await queryRows(
    tx,
    sql`SELECT a.max_pending_jobs, a.max_submits_per_minute, a.max_stored_output_bytes,
          CASE WHEN a.max_pending_jobs IS NOT NULL THEN
            (SELECT count(*) FROM jobs WHERE account = a.name AND state = 'PENDING') END AS pending,
          CASE WHEN a.max_submits_per_minute IS NOT NULL THEN
            (SELECT count(*) FROM jobs WHERE account = a.name AND ${window}) END AS submits,
          CASE WHEN a.max_stored_output_bytes IS NOT NULL THEN
            (SELECT coalesce(sum(output_bytes), 0) FROM jobs WHERE account = a.name AND output_purged_at IS NULL)
          END AS stored
        FROM accounts a WHERE a.name = ${account}`,
  );
  if (!row) return;
  const limit = (name: string) => (row[name] === null ? null : Number(row[name]));
  const [maxPending, maxRate, maxStored] = [
    limit('max_pending_jobs'),
    limit('max_submits_per_minute'),
    limit('max_stored_output_bytes'),
  ];
  const [pending, submits, stored] = [Number(row.pending), Number(row.submits), Number(row.stored)];
  if (maxPending !== null && pending + jobs > maxPending) {
    throw new AccountLimitReached(
      'max_pending_jobs',
      `Account "${account}" has ${pending} pending jobs${adding(jobs)}, its limit max_pending_jobs is ${maxPending}: retry once some have started or been cancelled`,
      ACCOUNT_LIMIT_RETRY_SECONDS,
    );
  }
  if (maxRate !== null && submits + jobs > maxRate) {
    const retry = await secondsUntilRateFrees(tx, account, submits + jobs - 1 - maxRate);
    throw new AccountLimitReached(
      'max_submits_per_minute',
      `Account "${account}" submitted ${submits} jobs in the last minute${adding(jobs)}, its limit max_submits_per_minute is ${maxRate}: retry in ${retry} s`,
      retry,
    );
  }
  if (maxStored !== null && stored >= maxStored) {
    throw new AccountLimitReached(
      'max_stored_output_bytes',
      `Account "${account}" stores ${stored} bytes of job output, its limit max_stored_output_bytes is ${maxStored}: retry once retention has deleted older output`,
      ACCOUNT_LIMIT_RETRY_SECONDS,
    );
  }
}

/** ", and this array would add N", for a submit of more than one job. */
function adding(jobs: number): string {
  return jobs === 1 ? '' : ` and this array would add ${jobs}`;
}

/**
 * Whole seconds (at least 1) until the window holds one submit fewer than the limit: until the submit `over` places
 * after the oldest leaves it (the oldest itself when the account is exactly at its limit). A limit of 0 frees never:
 * a full window then.
 */
async function secondsUntilRateFrees(tx: Database, account: string, over: number): Promise<number> {
  const [row] = await queryRows(
    tx,
    sql`SELECT extract(epoch FROM submit_time + make_interval(secs => ${RATE_WINDOW_SECONDS}) - now()) AS seconds
        FROM jobs WHERE account = ${account} AND submit_time > now() - make_interval(secs => ${RATE_WINDOW_SECONDS})
        ORDER BY submit_time, id OFFSET ${over} LIMIT 1`,
  );
  if (!row) return RATE_WINDOW_SECONDS;
  return Math.max(1, Math.ceil(Number(row.seconds)));
}
