/**
 * Each account's fair-share factor, Slurm's classic formula (priority/multifactor, "Fair-share Factor"):
 *
 *   F = 2^(−U / S),  U = the account's usage / all accounts' usage,  S = its shares / the shares of the accounts counted
 *
 * over the accounts with usage or pending jobs (an account that neither used nor waits takes no share from the others).
 * An account that used exactly its share gets 0.5, one that used nothing 1; with no usage anywhere every factor is 1.
 * Shares are accounts.fairshare_shares (1 for an account without a row).
 */
import { sql } from 'drizzle-orm';
import type { Database } from '../../shared/db/database.js';
import { queryRows } from '../../shared/db/query-rows.js';

/** Stores every counted account's factor in account_usage; answers how many accounts were counted. */
export async function updateFairshareFactors(db: Database, now: Date): Promise<number> {
  const rows = await queryRows(
    db,
    sql`
      WITH RECURSIVE pending AS (
        -- The accounts with PENDING jobs, one index probe each (jobs_account_active) instead of reading every
        -- PENDING row: a loose index scan, as Postgres has none of its own.
        (SELECT account FROM jobs WHERE state = 'PENDING' ORDER BY account LIMIT 1)
        UNION ALL
        SELECT (SELECT j.account FROM jobs j WHERE j.state = 'PENDING' AND j.account > p.account
                ORDER BY j.account LIMIT 1)
        FROM pending p WHERE p.account IS NOT NULL
      ), counted AS (
        SELECT account FROM account_usage WHERE usage_cpu_seconds > 0
        UNION
        SELECT account FROM pending WHERE account IS NOT NULL
      ), shares AS (
        SELECT c.account, coalesce(a.fairshare_shares, 1)::float8 AS shares, coalesce(u.usage_cpu_seconds, 0) AS usage
        FROM counted c
        LEFT JOIN accounts a ON a.name = c.account
        LEFT JOIN account_usage u ON u.account = c.account
      ), totals AS (
        SELECT sum(shares) AS shares, sum(usage) AS usage FROM shares
      ), stored AS (
        INSERT INTO account_usage AS u (account, usage_cpu_seconds, decayed_at, fairshare_factor)
        SELECT s.account, s.usage, ${now.toISOString()}::timestamptz,
               CASE WHEN t.usage > 0 THEN power(2, -(s.usage / t.usage) / (s.shares / t.shares)) ELSE 1 END
        FROM shares s CROSS JOIN totals t
        ON CONFLICT (account) DO UPDATE SET fairshare_factor = EXCLUDED.fairshare_factor
        RETURNING 1
      )
      SELECT count(*)::int AS n FROM stored
    `,
  );
  return Number(rows[0]?.n ?? 0);
}
