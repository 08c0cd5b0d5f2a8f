/**
 * Cancel of a whole job array, as `scancel 123` where 123 is an ArrayJobId (scancel(1)): every unfinished task, in
 * two transition batches: its PENDING tasks CANCELLED at once (their refs removed), its RUNNING ones marked for their
 * nodes to end, as cancelJob does for one job. A task already ended is left as it ended. Idempotent: asking again
 * cancels nothing more.
 */
import { and, asc, eq, inArray, sql } from 'drizzle-orm';
import type { Database } from '../../shared/db/database.js';
import { jobs } from '../../shared/db/schema.js';
import { errorFields } from '../../shared/log/logger.js';
import type { Services } from '../app-env.js';
import { JobNotFound } from '../http/errors.js';
import type { CancelEffect } from './cancel-job.js';
import { summaryColumns, type JobSummaryRow } from './job-summary.js';
import { transitionJobs } from './transition-jobs.js';

/** What a whole array's cancel did: the array's first task after it, the cancel's effect, and how many of each. */
export interface ArrayCancel {
  job: JobSummaryRow;
  effect: CancelEffect;
  cancelled: number;
  cancelRequested: number;
}

/**
 * Cancels the array whose id is `arrayJobId`. A user token's `account` must own it; throws JobNotFound (404) for a
 * missing or another account's array. The effect is `cancelled` when a PENDING task was cancelled, else
 * `cancel_requested` when a RUNNING one was marked, else `none`.
 */
export async function cancelArray(
  db: Database,
  { queue, logger }: Pick<Services, 'queue' | 'logger'>,
  arrayJobId: number,
  actor: string,
  account: string | undefined,
): Promise<ArrayCancel> {
  const [first] = await db.select({ account: jobs.account }).from(jobs).where(eq(jobs.id, arrayJobId));
  if (!first || (account !== undefined && first.account !== account)) throw new JobNotFound(String(arrayJobId));
  const tasks = await db
    .select({ id: jobs.id, state: jobs.state, account: jobs.account })
    .from(jobs)
    .where(and(eq(jobs.arrayJobId, arrayJobId), inArray(jobs.state, ['PENDING', 'RUNNING'])))
    .orderBy(asc(jobs.id));
  const own = tasks.filter((task) => account === undefined || task.account === account);
  const inAccount = account === undefined ? sql`true` : sql`current.account = ${account}`;
  const pending = await transitionJobs(db, {
    jobs: own
      .filter((task) => task.state === 'PENDING')
      .map(({ id }) => ({ id, to: 'CANCELLED', reason: 'array cancelled by request' })),
    from: ['PENDING'],
    where: inAccount,
    actor,
  });
  const cancelledIds = pending.filter((result) => result.applied).map((result) => result.after!.id);
  if (cancelledIds.length > 0) {
    // Their refs are harmless if this fails (the confirm drops them), just wasted work for a node.
    await queue
      .remove(cancelledIds)
      .catch((error: Error) => logger.warn('refs not removed', { job_id: arrayJobId, ...errorFields(error) }));
  }
  // A task that started between the read and the batch above is RUNNING now: marked here with the others.
  const cancelledSet = new Set(cancelledIds);
  const running = own.filter((task) => !cancelledSet.has(task.id));
  const requested = await transitionJobs(db, {
    jobs: running.map(({ id }) => ({ id, to: 'RUNNING', reason: 'cancel requested (array)' })),
    from: ['RUNNING'],
    set: sql`cancel_requested_at = now()`,
    where: sql`current.cancel_requested_at IS NULL AND ${inAccount}`,
    actor,
  });
  const cancelRequested = requested.filter((result) => result.applied).length;
  const [job] = await db.select(summaryColumns).from(jobs).where(eq(jobs.id, arrayJobId));
  const effect: CancelEffect =
    cancelledIds.length > 0 ? 'cancelled' : cancelRequested > 0 ? 'cancel_requested' : 'none';
  return { job: job!, effect, cancelled: cancelledIds.length, cancelRequested };
}
