/**
 * One reconciler at a time across a deployment: however many API processes run (Node hosts behind a load balancer,
 * overlapping Workers Cron runs), a reconciler runs only while it holds the lease on the scheduler_clock row
 * (migration 0031). Taking it is one conditional UPDATE on the database's clock: free, ended, or already this
 * holder's. It ends on its own `ttlMs` after it was last taken, so a holder that dies stops the others no longer than
 * that; a holder that stops gives it back. The steps of a run are each safe to run twice, so a run that outlives its
 * lease (a step slower than the time to live) is wasted work, never a wrong one.
 */
import { sql } from 'drizzle-orm';
import type { Database } from '../shared/db/database.js';
import { queryRows } from '../shared/db/query-rows.js';

/**
 * Longer than a run takes with the reconciler's batch sizes on a busy database, and short enough that a host killed
 * while holding it (and started again under another holder) is back to reconciling within half a minute.
 */
export const DEFAULT_RECONCILER_LEASE_MS = 30_000;

/** The lease of a host that reconciles every `everyMs`: a few runs' worth, so that one process keeps reconciling. */
export function reconcilerLeaseMs(everyMs: number): number {
  return Math.min(DEFAULT_RECONCILER_LEASE_MS, 3 * everyMs);
}

export class ReconcilerLease {
  /**
   * @param holder who holds it: unique per reconciler (a process, or a Workers run)
   * @param ttlMs how long it holds once taken, in ms
   */
  constructor(
    readonly holder: string = crypto.randomUUID(),
    private readonly ttlMs: number = DEFAULT_RECONCILER_LEASE_MS,
  ) {}

  /**
   * Takes the lease, or renews it when this holder has it already. Answers false while another holder's lease lasts.
   * Throws what the database throws.
   */
  async take(db: Database): Promise<boolean> {
    const rows = await queryRows(
      db,
      sql`
        UPDATE scheduler_clock
        SET reconciler_holder = ${this.holder},
            reconciler_lease_until = now() + ${this.ttlMs} * interval '1 millisecond'
        WHERE reconciler_holder IS NULL OR reconciler_holder = ${this.holder} OR reconciler_lease_until <= now()
        RETURNING 1 AS taken
      `,
    );
    return rows.length > 0;
  }

  /** Gives the lease back if this holder has it, so another reconciler may run at once. */
  async release(db: Database): Promise<void> {
    await db.execute(sql`
      UPDATE scheduler_clock SET reconciler_holder = NULL, reconciler_lease_until = NULL
      WHERE reconciler_holder = ${this.holder}
    `);
  }
}
