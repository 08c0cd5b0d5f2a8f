/**
 * Hold and release (scontrol(1) hold / release; sbatch(1) --hold), issue 20. A hold keeps a PENDING job out of the
 * queue (out-of-queue.ts) under reason JobHeldUser or JobHeldAdmin, and keeps the stored wait it replaced (a begin
 * time, a dependency) to give back at its release. As Slurm: a user's hold (or a held submit, by anyone) is released
 * by the job's user or an admin; an admin's hold only by an admin ("when a job is held by a system administrator …
 * only a system administrator may release the job"); an admin's hold of a user-held job makes it admin-held.
 */
import { and, eq, sql } from 'drizzle-orm';
import type { Database } from '../../shared/db/database.js';
import { bigintArray } from '../../shared/db/pg-array.js';
import { jobs, type JobRow } from '../../shared/db/schema.js';
import { WORKFLOW_WAIT_REASONS, type PendingReason } from '../../shared/job/pending-reason.js';
import { errorFields } from '../../shared/log/logger.js';
import type { Services } from '../app-env.js';
import { accountScope, actorName, type Principal } from '../auth/principal.js';
import { Forbidden } from '../http/errors.js';
import { jobRef } from './job-ref.js';
import { isOutOfQueue, notOutOfQueue } from './out-of-queue.js';
import { lockPendingJob } from './lock-pending-job.js';
import { pushOwedRefs, refColumns } from './push-not-enqueued.js';
import { recordJobChange } from './record-job-change.js';
import { settleDependents } from './dependencies/settle-dependents.js';

/** What a hold or release did: `none` when the job already was so (asking twice changes nothing). */
export type HoldEffect = 'held' | 'released' | 'none';

export const HOLDS: readonly string[] = ['JobHeldUser', 'JobHeldAdmin'] satisfies PendingReason[];

/** Waits a release gives back; any other reason (Priority, an account limit, decided anew) comes back as Priority. */
export const KEPT_WAITS: readonly string[] = WORKFLOW_WAIT_REASONS.filter((reason) => !HOLDS.includes(reason));

/**
 * Holds a PENDING job, as scontrol(1) hold and uhold: an admin's hold is JobHeldAdmin, or JobHeldUser when it asks for
 * a user's hold (`userHold`, scontrol uhold: one the job's user may release); a user's (own account's jobs only) is
 * always JobHeldUser. As Slurm 22.05 does (checked against it): a user's hold leaves an admin's as it is, an admin's
 * hold makes a user's an admin's, and an admin's uhold makes an admin's a user's. Its ref, if queued, is taken out (a
 * node that claimed it meanwhile is refused it by the confirm). Throws JobNotFound (404), JobNotPending (409) for a
 * job that no longer waits.
 */
export async function holdJob(
  db: Database,
  services: Pick<Services, 'queue' | 'faults' | 'logger'>,
  principal: Principal,
  id: number,
  { userHold = false }: { userHold?: boolean } = {},
): Promise<{ job: JobRow; effect: HoldEffect }> {
  const admin = principal.kind === 'admin';
  const held: PendingReason = admin && !userHold ? 'JobHeldAdmin' : 'JobHeldUser';
  const outcome = await db.transaction(async (tx) => {
    const job = await lockPendingJob(tx, id, accountScope(principal), 'only a PENDING job can be held');
    // Held already so; or held by an admin, which only an admin's hold changes (a user's never weakens it).
    if (job.reason === held || (job.reason === 'JobHeldAdmin' && !admin)) {
      return { job, effect: 'none' as const, wasQueued: false };
    }
    const reasonBeforeHold = HOLDS.includes(job.reason ?? '') ? job.reasonBeforeHold : job.reason;
    const [after] = await tx
      .update(jobs)
      .set({ reason: held, reasonBeforeHold: reasonBeforeHold as PendingReason | null })
      .where(eq(jobs.id, id))
      .returning();
    await recordJobChange(tx, job, {
      kind: 'hold',
      actor: actorName(principal),
      reason:
        held === 'JobHeldAdmin'
          ? 'held by an admin'
          : admin
            ? "held by an admin as its user's hold"
            : 'held by its user',
      changes: { reason: { from: job.reason, to: held } },
    });
    return { job: after!, effect: 'held' as const, wasQueued: !isOutOfQueue(job.reason) };
  });
  await services.faults('hold.committed');
  if (outcome.wasQueued) await unqueueHeld(db, services, [id]);
  return { job: outcome.job, effect: outcome.effect };
}

/**
 * After a hold committed: takes the refs of these jobs, queued before their hold, out of the queue. A ref left behind
 * is harmless (the confirm refuses a held job), only a node's wasted claim. A release committed since may have pushed
 * a ref before this removal: such a job waits in the queue again, and its ref is put back (a push is idempotent).
 * Errors of the queue are logged, not thrown (the reconciler is the safety net).
 */
export async function unqueueHeld(
  db: Database,
  { queue, logger }: Pick<Services, 'queue' | 'logger'>,
  ids: number[],
): Promise<void> {
  if (ids.length === 0) return;
  await queue
    .remove(ids)
    .catch((error: Error) => logger.warn('refs not removed', { job_ids: ids, ...errorFields(error) }));
  const requeued = await db
    .select(refColumns)
    .from(jobs)
    .where(and(sql`${jobs.id} = ANY(${bigintArray(ids)})`, eq(jobs.state, 'PENDING'), notOutOfQueue));
  if (requeued.length > 0)
    await queue
      .enqueue(requeued.map(jobRef))
      .catch((error: Error) => logger.warn('refs not pushed', { job_ids: ids, ...errorFields(error) }));
}

/**
 * Releases a held job: it goes back to the wait its hold replaced (a begin time still to come, a dependency), else
 * to the queue (reason Priority, its ref pushed now, or by the reconciler if the queue fails). Releasing a job not
 * held changes nothing. Throws Forbidden (403) when a user token releases an admin's hold, JobNotFound (404),
 * JobNotPending (409).
 */
export async function releaseJob(
  db: Database,
  services: Pick<Services, 'queue' | 'onWork' | 'now' | 'logger'>,
  principal: Principal,
  id: number,
): Promise<{ job: JobRow; effect: HoldEffect }> {
  const now = services.now();
  const outcome = await db.transaction(async (tx) => {
    const job = await lockPendingJob(tx, id, accountScope(principal), 'only a PENDING job can be released');
    if (job.reason === null || !HOLDS.includes(job.reason)) return { job, effect: 'none' as const };
    if (job.reason === 'JobHeldAdmin' && principal.kind !== 'admin') {
      throw new Forbidden(`job ${id} is held by an admin (JobHeldAdmin): only an admin may release it`);
    }
    const reason = reasonAfterRelease(job, now);
    const [after] = await tx
      .update(jobs)
      .set({ reason, reasonBeforeHold: null, ...(reason === 'Priority' ? { enqueued: false } : {}) })
      .where(eq(jobs.id, id))
      .returning();
    await recordJobChange(tx, job, {
      kind: 'release',
      actor: actorName(principal),
      reason: 'released',
      changes: { reason: { from: job.reason, to: reason } },
    });
    return { job: after!, effect: 'released' as const };
  });
  if (outcome.effect === 'released' && outcome.job.reason === 'Dependency') {
    // Its parents may have ended while it was held (their settle skipped a held job): decided now.
    const settled = await settleDependents(db, { jobs: [id] });
    if (settled.released.length > 0) await pushOwedRefs(db, services);
    if (settled.released.length + settled.cancelled.length + settled.kept.length > 0) {
      const [now] = await db.select().from(jobs).where(eq(jobs.id, id));
      return { job: now ?? outcome.job, effect: outcome.effect };
    }
  }
  if (outcome.effect === 'released' && outcome.job.reason === 'Priority') await pushOwedRefs(db, services);
  return outcome;
}

/** The wait a hold replaced, if it still holds: a begin time not yet come, a dependency, an array's cap. */
function reasonAfterRelease(job: Pick<JobRow, 'reasonBeforeHold' | 'eligibleTime'>, now: Date): PendingReason {
  const before = job.reasonBeforeHold;
  if (before !== null && before !== 'BeginTime' && KEPT_WAITS.includes(before)) return before;
  // The begin time is the job's own (eligible_time), whether set at submit or by an update under the hold.
  if (job.eligibleTime.getTime() > now.getTime()) return 'BeginTime';
  return 'Priority';
}
