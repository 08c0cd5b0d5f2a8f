/**
 * Each account's usage, as Slurm's fair share keeps it (priority/multifactor, "PriorityDecayHalfLife"): CPU-seconds,
 * every past second counting 2^(−age / half-life). Each recompute first decays what is stored by the time since it was
 * last decayed, then adds what the account's runs used in [from, now): a run's CPUs × the part of [start, end or now)
 * inside that window. `from` is scheduler_clock.charged_until, moved to `now` in the same transaction
 * (recompute-priority.ts), so a run is charged once whatever the number of reconcilers.
 */
import { sql } from 'drizzle-orm';
import type { Database } from '../../shared/db/database.js';
import { queryRows } from '../../shared/db/query-rows.js';

/**
 * Decays every account's usage to `now` and charges [from, now); `halfLifeMs` > 0. Answers the CPU-seconds charged in
 * all. Run inside the transaction that holds scheduler_clock.
 */
export async function chargeUsage(db: Database, from: Date, now: Date, halfLifeMs: number): Promise<number> {
  const halfLifeSeconds = halfLifeMs / 1000;
  // As text: every driver passes an ISO string through unchanged, not every one a Date.
  const [at, since] = [now.toISOString(), from.toISOString()];
  await db.execute(sql`
    UPDATE account_usage
    SET usage_cpu_seconds = usage_cpu_seconds
          * power(2, -greatest(0, extract(epoch FROM ${at}::timestamptz - decayed_at)) / ${halfLifeSeconds}::float8),
        decayed_at = greatest(decayed_at, ${at}::timestamptz)
  `);
  if (now <= from) return 0;
  // Two index ranges instead of a scan: the running jobs (jobs_state_id), and those that ended since `from`
  // (jobs_ended). A run that is neither used nothing in the window.
  const rows = await queryRows(
    db,
    sql`
      WITH runs AS (
        SELECT account, cpus, start_time, ${at}::timestamptz AS until FROM jobs
        WHERE state = 'RUNNING' AND start_time IS NOT NULL
        UNION ALL
        SELECT account, cpus, start_time, end_time FROM jobs
        WHERE end_time > ${since}::timestamptz AND start_time IS NOT NULL AND state <> 'RUNNING'
      ), charged AS (
        SELECT account, sum(cpus * greatest(0, extract(epoch FROM
                 least(until, ${at}::timestamptz) - greatest(start_time, ${since}::timestamptz))))::float8 AS cpu_seconds
        FROM runs GROUP BY account
      ), added AS (
        INSERT INTO account_usage AS u (account, usage_cpu_seconds, decayed_at)
        SELECT account, cpu_seconds, ${at}::timestamptz FROM charged WHERE cpu_seconds > 0
        ON CONFLICT (account) DO UPDATE SET usage_cpu_seconds = u.usage_cpu_seconds + EXCLUDED.usage_cpu_seconds
        RETURNING 1
      )
      SELECT coalesce(sum(cpu_seconds), 0)::float8 AS total FROM charged
    `,
  );
  return Number(rows[0]?.total ?? 0);
}
