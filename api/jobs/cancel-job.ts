import { sql } from 'drizzle-orm';
import type { Database } from '../../shared/db/database.js';
import { errorFields } from '../../shared/log/logger.js';
import type { Services } from '../app-env.js';
import { InvalidTransition, JobNotFound } from '../http/errors.js';
import type { JobSummaryRow } from './job-summary.js';
import { transitionJobs, type TransitionResult } from './transition-jobs.js';

/** What a cancel did: cancelled a PENDING job, asked the node to end a RUNNING one, or nothing (asked before). */
export type CancelEffect = 'cancelled' | 'cancel_requested' | 'none';

/**
 * Cancel is idempotent: a PENDING job becomes CANCELLED now; a RUNNING job is marked, and its node ends it and
 * reports CANCELLED; asking again changes nothing and succeeds. A job that already ended otherwise is a 409. A user
 * token's `account` must own the job: another account's is as absent as a missing one.
 */
export async function cancelJob(
  db: Database,
  { queue, logger }: Pick<Services, 'queue' | 'logger'>,
  id: number,
  actor: string,
  account: string | undefined,
): Promise<{ job: JobSummaryRow; effect: CancelEffect }> {
  const inAccount = account === undefined ? undefined : sql`current.account = ${account}`;
  const cancelled = visible(
    await transitionJobs(db, {
      jobs: [{ id, to: 'CANCELLED', reason: 'cancelled by request' }],
      from: ['PENDING'],
      ...(inAccount ? { where: inAccount } : {}),
      actor,
    }),
    id,
    account,
  );
  if (cancelled.applied) {
    // Its ref is harmless if this fails (the confirm drops it), just wasted work for a node.
    await queue
      .remove([id])
      .catch((error: Error) => logger.warn('ref not removed', { job_id: id, ...errorFields(error) }));
    return { job: cancelled.after!, effect: 'cancelled' };
  }
  const job = cancelled.before!;
  if (job.state === 'CANCELLED') return { job, effect: 'none' };
  if (job.state !== 'RUNNING') throw new InvalidTransition(String(id), job.state, 'CANCELLED');
  // A RUNNING job is noted for its node to end, once; the request stays in its history.
  const requested = visible(
    await transitionJobs(db, {
      jobs: [{ id, to: 'RUNNING', reason: 'cancel requested' }],
      from: ['RUNNING'],
      set: sql`cancel_requested_at = now()`,
      where: inAccount
        ? sql`current.cancel_requested_at IS NULL AND ${inAccount}`
        : sql`current.cancel_requested_at IS NULL`,
      actor,
    }),
    id,
    account,
  );
  if (requested.applied) return { job: requested.after!, effect: 'cancel_requested' };
  if (requested.before!.state === 'RUNNING') return { job: requested.before!, effect: 'none' };
  // It ended or was requeued between the two statements: answer as for that state.
  return cancelJob(db, { queue, logger }, id, actor, account);
}

/** The job's result, if the caller may see the job at all. */
function visible([result]: TransitionResult[], id: number, account: string | undefined): TransitionResult {
  if (!result?.before || (account !== undefined && result.before.account !== account)) {
    throw new JobNotFound(String(id));
  }
  return result;
}
