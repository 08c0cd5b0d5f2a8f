/**
 * The periodic priority recompute (Slurm's PriorityCalcPeriod), a step of every reconciler run: at most once per
 * interval across every reconciler of the deployment, decided on the one scheduler_clock row (FOR UPDATE: a second
 * reconciler waits for the first's commit, then sees it computed and skips). In that transaction:
 * 1. each account's usage is decayed and charged for [charged_until, now) (charge-usage.ts), and the clock moved on;
 * 2. each account's fair-share factor is recomputed (fairshare-factors.ts).
 * Then, by the reconciler that did so only, the PENDING jobs whose priority changed are written in batches of
 * REPRIORITISE_BATCH (reprioritise-jobs.ts), each its own short transaction, and pushed to the queue's order: on the
 * Postgres queue in the same statement; on Redis before the batch commits, so that a push that fails rolls the batch
 * back and the next recompute pushes it again (written first, the jobs would already hold their new priority and
 * nothing would tell the queue). A reconciler that dies between batches leaves the rest to the next recompute.
 */
import { sql } from 'drizzle-orm';
import type { PrioritySettings } from '../../shared/config/priority-settings.js';
import type { Database } from '../../shared/db/database.js';
import { queryRows } from '../../shared/db/query-rows.js';
import type { JobQueue } from '../../shared/queue/job-queue.js';
import { chargeUsage } from './charge-usage.js';
import { updateFairshareFactors } from './fairshare-factors.js';
import { reprioritiseJobs } from './reprioritise-jobs.js';

/**
 * How many jobs one batch writes, and one reprioritise call carries: a statement stays far below the statement
 * timeout, and one Redis script's run stays short for the claims it holds up (Redis runs one script at a time).
 */
export const REPRIORITISE_BATCH = 1000;

export interface RecomputeResult {
  /** CPU-seconds charged to accounts in all. */
  charged: number;
  /** Accounts whose fair-share factor was computed. */
  accounts: number;
  /** PENDING jobs whose priority changed (and whose refs were told). */
  changed: number;
}

/**
 * Recomputes as of `now` unless done within `settings.intervalMs` (answers null then). Throws what the database or
 * the queue throws; nothing is then written.
 */
export async function recomputePriorities(
  db: Database,
  queue: JobQueue,
  settings: PrioritySettings,
  now: Date,
): Promise<RecomputeResult | null> {
  const due = await db.transaction(async (tx) => {
    const [clock] = await queryRows(
      tx,
      sql`SELECT charged_until, priority_computed_at FROM scheduler_clock FOR UPDATE`,
    );
    if (!clock) throw new Error('scheduler_clock has no row: the database is not migrated (0020)');
    const computedAt = clock.priority_computed_at === null ? null : new Date(clock.priority_computed_at as string);
    if (computedAt !== null && computedAt.getTime() > now.getTime() - settings.intervalMs) return null;
    const charged = await chargeUsage(tx, new Date(clock.charged_until as string), now, settings.halfLifeMs);
    const accounts = await updateFairshareFactors(tx, now);
    // A clock behind the last run's never moves the charged window back: that would charge it twice.
    await tx.execute(sql`
      UPDATE scheduler_clock
      SET charged_until = greatest(charged_until, ${now.toISOString()}::timestamptz),
          priority_computed_at = ${now.toISOString()}::timestamptz
    `);
    return { charged, accounts };
  });
  if (due === null) return null;
  let changed = 0;
  for (let afterId = 0; ;) {
    const changes = await db.transaction(async (tx) => {
      const batch = await reprioritiseJobs(tx, settings, now, {
        withRefs: queue.storesRefsWithJobs,
        afterId,
        limit: REPRIORITISE_BATCH,
      });
      if (!queue.storesRefsWithJobs) await queue.reprioritise(batch);
      return batch;
    });
    changed += changes.length;
    if (changes.length < REPRIORITISE_BATCH) break;
    afterId = Math.max(...changes.map((change) => change.id));
  }
  return { ...due, changed };
}
