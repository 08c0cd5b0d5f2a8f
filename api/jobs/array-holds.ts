/**
 * Hold and release of a whole job array by its id, as `scontrol hold 123` / `scontrol release 123` where 123 is an
 * ArrayJobId (scontrol(1): an array's id acts on every task of it that is still PENDING). The rules are one job's
 * (hold-jobs.ts), applied to the array's PENDING tasks by one conditional statement each, whatever the array's size:
 * every task it changes gets its own event, and a task no longer PENDING is left alone.
 */
import { sql, type SQL } from 'drizzle-orm';
import type { Database } from '../../shared/db/database.js';
import { queryRows } from '../../shared/db/query-rows.js';
import type { PendingReason } from '../../shared/job/pending-reason.js';
import type { Services } from '../app-env.js';
import { accountScope, actorName, type Principal } from '../auth/principal.js';
import { Forbidden } from '../http/errors.js';
import { settleDependents } from './dependencies/settle-dependents.js';
import { releaseArrayTasks } from './array-task-limit.js';
import { HOLDS, KEPT_WAITS, unqueueHeld, type HoldEffect } from './hold-jobs.js';
import { lockPendingTasks } from './lock-pending-tasks.js';
import { isOutOfQueue, reasonList } from './out-of-queue.js';
import { pushOwedRefs } from './push-not-enqueued.js';

/** What a hold or release of an array did: `changed` PENDING tasks it held (released), `unchanged` ones already so. */
export interface ArrayHold {
  effect: HoldEffect;
  changed: number;
  unchanged: number;
}

/**
 * Holds every PENDING task of the array `arrayJobId` as holdJob holds one job (JobHeldAdmin for an admin unless it
 * asks for a user's hold, JobHeldUser for a user token: its own account's arrays), keeping the wait each hold replaces; their refs leave the queue after the commit, as one
 * job's do (fault point `hold.committed` between). Throws JobNotPending (409) when no task of it is PENDING.
 */
export async function holdArray(
  db: Database,
  services: Pick<Services, 'queue' | 'faults' | 'logger'>,
  principal: Principal,
  arrayJobId: number,
  { userHold = false }: { userHold?: boolean } = {},
): Promise<ArrayHold> {
  const admin = principal.kind === 'admin';
  const held: PendingReason = admin && !userHold ? 'JobHeldAdmin' : 'JobHeldUser';
  const outcome = await db.transaction(async (tx) => {
    const { pending } = await lockPendingTasks(tx, arrayJobId, accountScope(principal), 'only PENDING tasks are held');
    const changed = await changeTasks(tx, {
      arrayJobId,
      principal,
      kind: 'hold',
      why:
        held === 'JobHeldAdmin'
          ? 'held by an admin'
          : admin
            ? "held by an admin as its user's hold"
            : 'held by its user',
      // Held already so; or by an admin, which only an admin's hold changes (a user's never weakens it), as holdJob.
      which: admin
        ? sql`reason IS DISTINCT FROM ${held}::text`
        : sql`reason IS DISTINCT FROM ${held}::text AND reason IS DISTINCT FROM 'JobHeldAdmin'`,
      reason: sql`${held}::text`,
      set: sql`reason_before_hold = CASE WHEN target.reason = 'JobHeldUser' THEN target.reason_before_hold
                                         ELSE target.reason END`,
    });
    return { pending, changed };
  });
  await services.faults('hold.committed');
  const wereQueued = outcome.changed.filter((task) => !isOutOfQueue(task.from)).map((task) => task.id);
  await unqueueHeld(db, services, wereQueued);
  return counts(outcome.pending, outcome.changed.length, 'held');
}

/**
 * Releases every held PENDING task of the array: each goes back to the wait its hold replaced, else to the queue
 * (its ref pushed now, or by the reconciler). Throws Forbidden (403), changing nothing, when a user token releases an
 * array some task of which an admin holds; JobNotPending (409) when no task of it is PENDING.
 */
export async function releaseArray(
  db: Database,
  services: Pick<Services, 'queue' | 'onWork' | 'now' | 'logger'>,
  principal: Principal,
  arrayJobId: number,
): Promise<ArrayHold> {
  const now = services.now();
  const outcome = await db.transaction(async (tx) => {
    const { pending, adminHeld } = await lockPendingTasks(
      tx,
      arrayJobId,
      accountScope(principal),
      'only PENDING tasks are released',
    );
    if (adminHeld > 0 && principal.kind !== 'admin') {
      throw new Forbidden(
        `${adminHeld} task(s) of array ${arrayJobId} are held by an admin (JobHeldAdmin): only an admin may release them`,
      );
    }
    // reasonAfterRelease (hold-jobs.ts), row by row.
    const after = sql`CASE
        WHEN target.reason_before_hold <> 'BeginTime' AND target.reason_before_hold = ANY(${reasonList(KEPT_WAITS)})
          THEN target.reason_before_hold
        WHEN target.eligible_time > ${now.toISOString()}::timestamptz THEN 'BeginTime'
        ELSE 'Priority' END`;
    const changed = await changeTasks(tx, {
      arrayJobId,
      principal,
      kind: 'release',
      why: 'released',
      which: sql`reason = ANY(${reasonList(HOLDS)})`,
      reason: after,
      set: sql`reason_before_hold = NULL,
               enqueued = CASE WHEN ${after} = 'Priority' THEN false ELSE jobs.enqueued END`,
    });
    return { pending, changed };
  });
  const waiting = outcome.changed.filter((task) => task.to === 'Dependency').map((task) => task.id);
  // Their parents may have ended while they were held (a settle skips a held job): decided now.
  if (waiting.length > 0) await settleDependents(db, { jobs: waiting });
  // Tasks back under their %N cap: those a task's end (during the hold) made room for go to the queue now, not at
  // the reconciler's next run.
  if (outcome.changed.some((task) => task.to === 'JobArrayTaskLimit')) {
    await db.transaction((tx) => releaseArrayTasks(tx, [arrayJobId]));
  }
  // Every task released to the queue is pushed now, not a first batch of them.
  if (outcome.changed.length > 0) await pushOwedRefs(db, services, outcome.changed.length + 1000);
  return counts(outcome.pending, outcome.changed.length, 'released');
}

/** A task a hold or release changed: its id, its reason before and after. */
interface ChangedTask {
  id: number;
  from: string | null;
  to: string | null;
}

/**
 * One statement: sets `reason` (and `set`) on the array's PENDING tasks that `which` picks, and writes each one's
 * event (as recordJobChange does for one job). `target` names a task's row before the change. Only inside a
 * transaction that locked the tasks (lockPendingTasks).
 */
async function changeTasks(
  tx: Database,
  change: {
    arrayJobId: number;
    principal: Principal;
    kind: 'hold' | 'release';
    why: string;
    which: SQL;
    reason: SQL;
    set: SQL;
  },
): Promise<ChangedTask[]> {
  const account = accountScope(change.principal);
  const rows = await queryRows(
    tx,
    sql`WITH target AS (
          SELECT id, attempt, reason, reason_before_hold, eligible_time FROM jobs
          WHERE array_job_id = ${change.arrayJobId} AND state = 'PENDING'
            AND ${account === undefined ? sql`true` : sql`account = ${account}`} AND ${change.which}
        ), changed AS (
          UPDATE jobs SET reason = ${change.reason}, ${change.set}
          FROM target WHERE jobs.id = target.id AND jobs.state = 'PENDING'
          RETURNING jobs.id, jobs.attempt, target.reason AS reason_from, jobs.reason AS reason_to
        ), recorded AS (
          INSERT INTO job_events (job_id, attempt, from_state, to_state, actor, reason, kind, changes)
          SELECT id, attempt, 'PENDING', 'PENDING', ${actorName(change.principal)}::text, ${change.why}::text,
                 ${change.kind}::text, jsonb_build_object('reason', jsonb_build_object('from', reason_from, 'to', reason_to))
          FROM changed
        )
        SELECT id, reason_from, reason_to FROM changed`,
  );
  return rows.map((row) => ({
    id: Number(row.id),
    from: row.reason_from as string | null,
    to: row.reason_to as string | null,
  }));
}

function counts(pending: number, changed: number, effect: 'held' | 'released'): ArrayHold {
  return { effect: changed > 0 ? effect : 'none', changed, unchanged: pending - changed };
}
