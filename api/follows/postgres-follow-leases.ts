/**
 * Follow leases in Postgres (migration 0009), for the hosts whose queue is the Postgres one. A take is a short
 * transaction under an advisory lock per holder, so two API processes counting at once cannot both take the last
 * slot; times are the database server's clock, the one clock every API process shares.
 */
import { sql } from 'drizzle-orm';
import type { Database } from '../../shared/db/database.js';
import { queryRows } from '../../shared/db/query-rows.js';
import type { FollowLeases, LeaseAnswer } from './follow-leases.js';

// The advisory lock namespace of follow leases: any constant no other lock of this project uses.
const LOCK_NAMESPACE = 12_007;

export class PostgresFollowLeases implements FollowLeases {
  constructor(private readonly db: Database) {}

  async acquire(holder: string, max: number, leaseMs: number): Promise<LeaseAnswer> {
    const leaseId = crypto.randomUUID();
    return this.db.transaction(async (tx) => {
      const db = tx as unknown as Database;
      await db.execute(sql`SELECT pg_advisory_xact_lock(${LOCK_NAMESPACE}, hashtext(${holder}))`);
      // Every lapsed lease, not only this holder's: the table stays as small as the streams open now.
      await db.execute(sql`DELETE FROM follow_leases WHERE expires_at <= now()`);
      const [held] = await queryRows(
        db,
        sql`SELECT count(*)::int AS n,
                   coalesce(floor(extract(epoch FROM min(expires_at) - now()) * 1000), 0)::bigint AS soonest_ms
            FROM follow_leases WHERE holder = ${holder}`,
      );
      if (Number(held!.n) >= max) return { taken: false, retryAfterMs: Math.max(0, Number(held!.soonest_ms)) };
      await db.execute(sql`
        INSERT INTO follow_leases (lease_id, holder, expires_at)
        VALUES (${leaseId}, ${holder}, now() + ${leaseMs}::bigint * interval '1 millisecond')`);
      return { taken: true, leaseId };
    });
  }

  async renew(holder: string, leaseId: string, leaseMs: number): Promise<void> {
    await this.db.execute(sql`
      INSERT INTO follow_leases (lease_id, holder, expires_at)
      VALUES (${leaseId}, ${holder}, now() + ${leaseMs}::bigint * interval '1 millisecond')
      ON CONFLICT (lease_id) DO UPDATE SET expires_at = excluded.expires_at`);
  }

  async release(holder: string, leaseId: string): Promise<void> {
    await this.db.execute(sql`DELETE FROM follow_leases WHERE lease_id = ${leaseId} AND holder = ${holder}`);
  }
}
