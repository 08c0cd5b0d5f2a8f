/**
 * Update of a PENDING job, as `scontrol update JobId=… TimeLimit= Nice= Partition= Name= BeginTime= Dependency=`
 * (scontrol(1); a dependency is replaced as update-dependency.ts says),
 * issue 20. Slurm's rules for who may change what: a user may only lower its job's time limit and only raise its nice
 * (so its priority only falls: "Only privileged users can specify a negative adjustment"); an admin may set any time
 * limit within the partition's maximum and any nice. A new partition is admitted as a submit's is
 * (partition-admission.ts, and some node of it must fit the job). Every refusal is a 422 naming its field, and then
 * nothing changed. The job's priority is computed again (its nice and partition tier are factors), and its ref is
 * taken out of the queue and pushed again with the new partition, time limit and priority.
 */
import { eq, sql } from 'drizzle-orm';
import type { z } from '@hono/zod-openapi';
import type { Database } from '../../shared/db/database.js';
import { jobs, type JobRow } from '../../shared/db/schema.js';
import { parseBeginTime } from '../../shared/job/begin-time.js';
import type { JobChanges } from '../../shared/job/job-change.js';
import { WORKFLOW_WAIT_REASONS } from '../../shared/job/pending-reason.js';
import { formatTimeLimit, parseTimeLimit, type TimeLimit } from '../../shared/job/time-limit.js';
import { errorFields } from '../../shared/log/logger.js';
import type { Services } from '../app-env.js';
import { accountScope, actorName, type Principal } from '../auth/principal.js';
import { ValidationFailed, type FieldError } from '../http/errors.js';
import { formulaParameters, priorityExpression } from '../priority/priority-formula.js';
import { priorityRefusals } from '../priority/priority-request.js';
import { clusterCpus, fairShareOf, maxTier, tierOf } from '../priority/priority-inputs.js';
import type { UpdateJobRequest } from '../routes/v1/jobs/schema.js';
import { lockPendingJob } from './lock-pending-job.js';
import { isOutOfQueue } from './out-of-queue.js';
import { jobRef } from './job-ref.js';
import { markNotEnqueued } from './mark-not-enqueued.js';
import { recordJobChange } from './record-job-change.js';
import { applyVerdicts } from './dependencies/settle-dependents.js';
import { replaceDependency } from './dependencies/update-dependency.js';
import { viewerAccount } from './submit-job.js';

type Update = z.infer<typeof UpdateJobRequest>;

/** The row's values an update may change. */
interface Changeable {
  timeLimitSeconds: TimeLimit;
  nice: number;
  partition: string;
  name: string;
  eligibleTime: Date;
  reason: JobRow['reason'];
  reasonBeforeHold: JobRow['reasonBeforeHold'];
}

/**
 * Applies `update` to the PENDING job `id` for `principal` (a user token: its own account's jobs). Answers the job
 * after and what changed (nothing: no event, the job as it was). Throws ValidationFailed (422, each refused field),
 * JobNotFound (404), JobNotPending (409).
 */
export async function updateJob(
  db: Database,
  services: Pick<Services, 'queue' | 'onWork' | 'now' | 'partitions' | 'capacities' | 'priority' | 'logger'>,
  principal: Principal,
  id: number,
  update: Update,
): Promise<{ job: JobRow; changes: JobChanges }> {
  const now = services.now();
  const outcome = await db.transaction(async (tx) => {
    const job = await lockPendingJob(tx, id, accountScope(principal), 'only a PENDING job can be updated');
    const wanted = await wantedValues(tx, services, principal, job, update, now);
    const dependency =
      update.dependency === undefined
        ? undefined
        : await replaceDependency(tx, job, update.dependency, wanted, viewerAccount(principal), now);
    if (dependency) Object.assign(wanted, { reason: dependency.reason, reasonBeforeHold: dependency.reasonBeforeHold });
    const changes = changesBetween(job, wanted);
    if (dependency && dependency.from !== dependency.to)
      changes.dependency = { from: dependency.from, to: dependency.to };
    if (Object.keys(changes).length === 0) return { job, changes, remove: false, push: false };
    // Its nice and its partition's tier are factors of its priority; an admin's absolute priority stays.
    const reprioritised = 'nice' in changes || 'partition' in changes;
    const refChanged = reprioritised || 'time_limit' in changes;
    const [wasQueued, queued] = [!isOutOfQueue(job.reason), !isOutOfQueue(wanted.reason)];
    const [after] = await tx
      .update(jobs)
      .set({
        ...wanted,
        ...(reprioritised
          ? { priority: sql`coalesce(${jobs.adminPriority}, ${recomputedPriority(services, job, wanted, now)})` }
          : {}),
      })
      .where(eq(jobs.id, id))
      .returning();
    await recordJobChange(tx, job, { kind: 'update', actor: actorName(principal), reason: 'updated', changes });
    // A new dependency that can never hold cancels the job (kill_on_invalid_dep), after the update that gave it.
    const [settled] = dependency?.doomed
      ? (await applyVerdicts(tx, [id]), await tx.select().from(jobs).where(eq(jobs.id, id)))
      : [after];
    return {
      job: settled!,
      changes,
      remove: wasQueued && (refChanged || !queued),
      push: queued && (refChanged || !wasQueued),
    };
  });
  // As a submit's (submit-job.ts, afterCommit): the ref is pushed once the row is committed; a push that fails marks
  // the job not enqueued, for the reconciler. The old ref goes first (another partition's key, the old time limit and
  // priority), so that the new one is never the one removed.
  if (outcome.remove) {
    await services.queue
      .remove([id])
      .catch((error: Error) => services.logger.warn('old ref not removed', { job_id: id, ...errorFields(error) }));
  }
  if (outcome.push) await pushRef(db, services, outcome.job);
  return { job: outcome.job, changes: outcome.changes };
}

/** Pushes the job's ref and wakes its partition's nodes; a failed push marks the job not enqueued. */
async function pushRef(
  db: Database,
  { queue, onWork, logger }: Pick<Services, 'queue' | 'onWork' | 'logger'>,
  job: JobRow,
): Promise<void> {
  try {
    await queue.enqueue([jobRef(job)]);
    onWork(job.partition);
  } catch (error) {
    logger.warn('push to the queue failed, the reconciler will retry', { job_id: job.id, ...errorFields(error) });
    await markNotEnqueued(db, job.id, logger);
  }
}

/**
 * The job's values once `update` is applied, or the refusal of every field that may not be so: throws
 * ValidationFailed (422, each refused field).
 */
export async function wantedValues(
  tx: Database,
  { partitions, capacities }: Pick<Services, 'partitions' | 'capacities'>,
  principal: Principal,
  job: JobRow,
  update: Update,
  now: Date,
): Promise<Changeable> {
  const refusals: FieldError[] = [];
  const user = principal.kind !== 'admin';
  const timeLimitSeconds = update.time_limit === undefined ? job.timeLimitSeconds : parseTimeLimit(update.time_limit);
  if (user && isLonger(timeLimitSeconds, job.timeLimitSeconds)) {
    refusals.push({
      field: 'time_limit',
      message: `${formatTimeLimit(timeLimitSeconds)} is longer than the job's ${formatTimeLimit(job.timeLimitSeconds)}: a user token may only lower it; ask an admin to raise it`,
    });
  }
  const nice = update.nice ?? job.nice;
  if (user && nice < job.nice && nice >= 0) {
    refusals.push({
      field: 'nice',
      message: `${nice} is below the job's ${job.nice}: a user token may only raise its nice (lower its priority)`,
    });
  }
  refusals.push(...priorityRefusals(principal, { priority: 0, nice }).map((error) => ({ ...error, field: 'nice' })));
  const partition = update.partition ?? job.partition;
  const sized = { partition, account: job.account, cpus: job.cpus, memoryMb: job.memoryMb, timeLimitSeconds };
  if (partition !== job.partition || timeLimitSeconds !== job.timeLimitSeconds) {
    // Asked for as given: the partition's default time never replaces the job's own.
    const admission = await partitions.admit(tx, { partition, time_limit: formatTimeLimit(timeLimitSeconds) }, sized);
    if ('refusal' in admission) refusals.push(...admission.refusal.map(unprefixed));
  }
  if (partition !== job.partition) refusals.push(...((await capacities.refusal(tx, sized)) ?? []).map(unprefixed));
  if (refusals.length > 0) throw new ValidationFailed(refusals);

  const waits = waitAfterBegin(job, update.begin === undefined ? undefined : parseBeginTime(update.begin, now), now);
  const name = update.name ?? job.name;
  return { timeLimitSeconds, nice, partition, name, reasonBeforeHold: job.reasonBeforeHold, ...waits };
}

/** Whether limit `a` is longer than `b` (null: UNLIMITED, longer than any). */
function isLonger(a: TimeLimit, b: TimeLimit): boolean {
  if (a === null) return b !== null;
  return b !== null && a > b;
}

/**
 * The eligible time and reason after a new begin: in the future, the job waits for it (BeginTime), unless another
 * wait (a hold, a dependency) holds it: that stays, and the begin counts once it ends. Now or past: the job is
 * eligible, from now at the latest (a begin never makes it older than it is).
 */
function waitAfterBegin(
  job: Pick<JobRow, 'eligibleTime' | 'reason'>,
  begin: Date | undefined,
  now: Date,
): Pick<Changeable, 'eligibleTime' | 'reason'> {
  if (begin === undefined) return { eligibleTime: job.eligibleTime, reason: job.reason };
  const future = begin.getTime() > now.getTime();
  const eligibleTime = future ? begin : new Date(Math.min(job.eligibleTime.getTime(), now.getTime()));
  // A hold, a dependency or an array's cap stays the reason; an account limit's is decided anew once eligible.
  const otherWait =
    job.reason !== 'BeginTime' && (WORKFLOW_WAIT_REASONS as readonly string[]).includes(job.reason ?? '');
  if (otherWait) return { eligibleTime, reason: job.reason };
  return { eligibleTime, reason: future ? 'BeginTime' : isOutOfQueue(job.reason) ? 'Priority' : job.reason };
}

/** Each field whose value changes, as the API shows it. */
function changesBetween(job: JobRow, wanted: Changeable): JobChanges {
  const changes: JobChanges = {};
  const note = (field: string, from: unknown, to: unknown) => {
    if (from !== to) changes[field] = { from, to };
  };
  note('time_limit', job.timeLimitSeconds, wanted.timeLimitSeconds);
  note('nice', job.nice, wanted.nice);
  note('partition', job.partition, wanted.partition);
  note('name', job.name, wanted.name);
  note('eligible_time', job.eligibleTime.toISOString(), wanted.eligibleTime.toISOString());
  note('reason', job.reason, wanted.reason);
  return changes;
}

/** The priority computed as the recompute computes it (priority-formula.ts), with the job's new nice and partition. */
function recomputedPriority(
  { priority }: Pick<Services, 'priority'>,
  job: JobRow,
  wanted: Changeable,
  now: Date,
): ReturnType<typeof priorityExpression> {
  return priorityExpression(formulaParameters(priority.weights, priority.maxAgeMs), {
    ageSeconds: sql`${(now.getTime() - wanted.eligibleTime.getTime()) / 1000}::float8`,
    fairShare: fairShareOf(job.account),
    cpus: sql`${job.cpus}::int`,
    clusterCpus,
    tier: tierOf(wanted.partition),
    maxTier,
    nice: sql`${wanted.nice}::int`,
  });
}

/** A submit's refusal names `job.partition`; an update's body is flat: `partition`. */
function unprefixed(error: FieldError): FieldError {
  return { ...error, field: error.field.replace(/^job\./, '') };
}
