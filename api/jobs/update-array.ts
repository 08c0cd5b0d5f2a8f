/**
 * Update of a whole job array by its id, as `scontrol update JobId=123 TimeLimit=…` where 123 is an ArrayJobId
 * (scontrol(1): an array's id acts on every task of it that is still PENDING). Each task is checked and changed as one
 * job's update checks and changes it (update-job.ts: who may change what, the partition's admission, the priority
 * computed again, the ref taken out and pushed again), in one statement for all of them, whatever the array's size:
 * every task it changes gets its own event of kind `update`; a task no longer PENDING is left alone. A refusal of any
 * task refuses the update, and then nothing changed.
 */
import { and, eq, sql, type SQL } from 'drizzle-orm';
import type { z } from '@hono/zod-openapi';
import type { Database } from '../../shared/db/database.js';
import { bigintArray } from '../../shared/db/pg-array.js';
import { queryRows } from '../../shared/db/query-rows.js';
import { jobs } from '../../shared/db/schema.js';
import { parseBeginTime } from '../../shared/job/begin-time.js';
import { OUT_OF_QUEUE_REASONS, WORKFLOW_WAIT_REASONS } from '../../shared/job/pending-reason.js';
import { parseTimeLimit } from '../../shared/job/time-limit.js';
import { errorFields } from '../../shared/log/logger.js';
import type { Services } from '../app-env.js';
import { accountScope, actorName, type Principal } from '../auth/principal.js';
import { formulaParameters, priorityExpression } from '../priority/priority-formula.js';
import { clusterCpus, fairShareOf, maxTier, tierOf } from '../priority/priority-inputs.js';
import type { UpdateJobRequest } from '../routes/v1/jobs/schema.js';
import { jobRef } from './job-ref.js';
import { lockPendingTasks } from './lock-pending-tasks.js';
import { notOutOfQueue, reasonList } from './out-of-queue.js';
import { refColumns } from './push-not-enqueued.js';
import { wantedValues } from './update-job.js';
import { ValidationFailed } from '../http/errors.js';

type Update = z.infer<typeof UpdateJobRequest>;

/** What an array's update did: `changed` PENDING tasks it changed, `unchanged` ones whose values already were so. */
export interface ArrayUpdate {
  changed: number;
  unchanged: number;
}

/**
 * Applies `update` to every PENDING task of the array `arrayJobId` for `principal` (a user token: its own account's
 * arrays). Throws ValidationFailed (422, each refused field; a dependency, which is updated per task), JobNotPending
 * (409) when no task of it is PENDING.
 */
export async function updateArray(
  db: Database,
  services: Pick<Services, 'queue' | 'onWork' | 'now' | 'partitions' | 'capacities' | 'priority' | 'logger'>,
  principal: Principal,
  arrayJobId: number,
  update: Update,
): Promise<ArrayUpdate> {
  if (update.dependency !== undefined) {
    // Each task's dependency is its own rows (aftercorr reads its index): replaced per task, not yet per array.
    throw new ValidationFailed([
      {
        field: 'dependency',
        message: `a job array's dependency is updated task by task (${arrayJobId}_<index>), not by the array's id`,
      },
    ]);
  }
  const now = services.now();
  const account = accountScope(principal);
  const outcome = await db.transaction(async (tx) => {
    const { pending } = await lockPendingTasks(tx, arrayJobId, account, 'only PENDING tasks can be updated');
    // An array's tasks share their values unless one was updated alone: each distinct kind is checked once.
    const kinds = await tx
      .selectDistinctOn([jobs.timeLimitSeconds, jobs.nice, jobs.partition, jobs.cpus, jobs.memoryMb])
      .from(jobs)
      .where(
        and(
          eq(jobs.arrayJobId, arrayJobId),
          eq(jobs.state, 'PENDING'),
          account === undefined ? undefined : eq(jobs.account, account),
        ),
      );
    for (const task of kinds) await wantedValues(tx, services, principal, task, update, now);
    const changed = await changeTasks(tx, services, principal, arrayJobId, update, now);
    return { pending, changed };
  });
  // As one job's update: the old refs go first, so that a new one is never the one removed.
  const removed = outcome.changed.filter((task) => task.wasQueued && (task.refChanged || !task.queued));
  if (removed.length > 0) {
    await services.queue
      .remove(removed.map((task) => task.id))
      .catch((error: Error) =>
        services.logger.warn('old refs not removed', { job_id: arrayJobId, ...errorFields(error) }),
      );
  }
  const pushed = outcome.changed.filter((task) => task.queued && (task.refChanged || !task.wasQueued));
  await pushRefs(
    db,
    services,
    pushed.map((task) => task.id),
  );
  return { changed: outcome.changed.length, unchanged: outcome.pending - outcome.changed.length };
}

/** A task the update changed, and where its ref stands: in the queue before, in it after, its fields changed. */
interface ChangedTask {
  id: number;
  wasQueued: boolean;
  queued: boolean;
  refChanged: boolean;
}

/** One statement: the new values of every PENDING task of the array, its priority, and each changed task's event. */
async function changeTasks(
  tx: Database,
  { priority }: Pick<Services, 'priority'>,
  principal: Principal,
  arrayJobId: number,
  update: Update,
  now: Date,
): Promise<ChangedTask[]> {
  const account = accountScope(principal);
  const given = <T>(value: T | undefined, cast: SQL, column: string): SQL =>
    value === undefined ? sql.raw(`target.${column}`) : sql`${value}::${cast}`;
  const timeLimit = update.time_limit === undefined ? undefined : parseTimeLimit(update.time_limit);
  const begin = update.begin === undefined ? undefined : parseBeginTime(update.begin, now);
  const wait = beginWait(begin, now);
  const recomputed = priorityExpression(formulaParameters(priority.weights, priority.maxAgeMs), {
    ageSeconds: sql`extract(epoch FROM (${now.toISOString()}::timestamptz - diff.w_eligible_time))::float8`,
    fairShare: fairShareOf(sql`jobs.account`),
    cpus: sql`jobs.cpus`,
    clusterCpus,
    tier: tierOf(sql`diff.w_partition`),
    maxTier,
    nice: sql`diff.w_nice`,
  });
  const change = (field: string, column: string, shown = (value: string) => value) =>
    sql.raw(`CASE WHEN ${column} IS DISTINCT FROM w_${column}
      THEN jsonb_build_object('${field}', jsonb_build_object('from', ${shown(column)}, 'to', ${shown(`w_${column}`)}))
      ELSE '{}'::jsonb END`);
  const iso = (column: string) => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
  const outOfQueue = (column: string) =>
    sql`coalesce(${sql.raw(column)} = ANY(${reasonList(OUT_OF_QUEUE_REASONS)}), false)`;
  const rows = await queryRows(
    tx,
    sql`WITH target AS (
          SELECT id, attempt, time_limit_seconds, nice, partition, name, eligible_time, reason FROM jobs
          WHERE array_job_id = ${arrayJobId} AND state = 'PENDING'
            AND ${account === undefined ? sql`true` : sql`account = ${account}`}
        ), wanted AS (
          SELECT target.*,
                 ${given(timeLimit, sql.raw('int'), 'time_limit_seconds')} AS w_time_limit_seconds,
                 ${given(update.nice, sql.raw('int'), 'nice')} AS w_nice,
                 ${given(update.partition, sql.raw('text'), 'partition')} AS w_partition,
                 ${given(update.name, sql.raw('text'), 'name')} AS w_name,
                 ${wait.eligibleTime} AS w_eligible_time,
                 ${wait.reason} AS w_reason
          FROM target
        ), diff AS (
          SELECT wanted.*,
                 ${change('time_limit', 'time_limit_seconds')} || ${change('nice', 'nice')}
                   || ${change('partition', 'partition')} || ${change('name', 'name')}
                   || ${change('eligible_time', 'eligible_time', iso)} || ${change('reason', 'reason')} AS changes,
                 (nice <> w_nice OR partition <> w_partition) AS reprioritised,
                 (nice <> w_nice OR partition <> w_partition
                   OR time_limit_seconds IS DISTINCT FROM w_time_limit_seconds) AS ref_changed,
                 NOT ${outOfQueue('reason')} AS was_queued,
                 NOT ${outOfQueue('w_reason')} AS queued
          FROM wanted
        ), changed AS (
          UPDATE jobs SET time_limit_seconds = diff.w_time_limit_seconds, nice = diff.w_nice,
                 partition = diff.w_partition, name = diff.w_name, eligible_time = diff.w_eligible_time,
                 reason = diff.w_reason,
                 -- Its nice and its partition's tier are factors of its priority; an admin's absolute priority stays.
                 priority = CASE WHEN diff.reprioritised THEN coalesce(jobs.admin_priority, ${recomputed})
                                 ELSE jobs.priority END
          FROM diff WHERE jobs.id = diff.id AND diff.changes <> '{}'::jsonb
          RETURNING jobs.id, diff.attempt, diff.changes, diff.ref_changed, diff.was_queued, diff.queued
        ), recorded AS (
          INSERT INTO job_events (job_id, attempt, from_state, to_state, actor, reason, kind, changes)
          SELECT id, attempt, 'PENDING', 'PENDING', ${actorName(principal)}::text, 'updated', 'update', changes
          FROM changed
        )
        SELECT id, ref_changed, was_queued, queued FROM changed`,
  );
  return rows.map((row) => ({
    id: Number(row.id),
    wasQueued: row.was_queued === true,
    queued: row.queued === true,
    refChanged: row.ref_changed === true,
  }));
}

/**
 * waitAfterBegin (update-job.ts), row by row: a future begin is waited for (BeginTime) unless another workflow wait
 * holds the task; a begin now or past makes it eligible from now at the latest.
 */
function beginWait(begin: Date | undefined, now: Date): { eligibleTime: SQL; reason: SQL } {
  if (begin === undefined) return { eligibleTime: sql`target.eligible_time`, reason: sql`target.reason` };
  const future = begin.getTime() > now.getTime();
  const otherWait = sql`target.reason <> 'BeginTime' AND target.reason = ANY(${reasonList(WORKFLOW_WAIT_REASONS)})`;
  return {
    eligibleTime: future
      ? sql`${begin.toISOString()}::timestamptz`
      : sql`least(target.eligible_time, ${now.toISOString()}::timestamptz)`,
    reason: future
      ? sql`CASE WHEN ${otherWait} THEN target.reason ELSE 'BeginTime' END`
      : sql`CASE WHEN ${otherWait} THEN target.reason
                 WHEN target.reason = ANY(${reasonList(OUT_OF_QUEUE_REASONS)}) THEN 'Priority'
                 ELSE target.reason END`,
  };
}

/** Pushes the refs of these tasks still in the queue, and wakes their partitions' nodes; a failed push marks them. */
async function pushRefs(
  db: Database,
  { queue, onWork, logger }: Pick<Services, 'queue' | 'onWork' | 'logger'>,
  ids: number[],
) {
  if (ids.length === 0) return;
  const which = sql`${jobs.id} = ANY(${bigintArray(ids)})`;
  const rows = await db
    .select(refColumns)
    .from(jobs)
    .where(and(which, eq(jobs.state, 'PENDING'), notOutOfQueue));
  try {
    await queue.enqueue(rows.map(jobRef));
    for (const partition of new Set(rows.map((row) => row.partition))) onWork(partition);
  } catch (error) {
    logger.warn('push to the queue failed, the reconciler will retry', { job_ids: ids, ...errorFields(error) });
    await db.update(jobs).set({ enqueued: false }).where(which);
  }
}
