/**
 * The per-minute utilisation samples the history charts read (GET /v1/stats/history; migration 0018): one statement
 * per minute, run by each reconciler run (the Node host's loop, the Worker's Cron trigger). It samples the last minute
 * that ended at least SETTLE_MS ago, so that the jobs ended or started in it have committed, and writes it only if
 * no run did before (the minute's row in utilisation_minutes is the claim): two reconcilers, or a retried run, never
 * count a minute twice. Finished counts and waits are read from the jobs' own end and start times in the minute,
 * so they are exact whenever the minute is sampled; pending, running and CPUs allocated are read as they are then.
 * Samples older than HISTORY_RETENTION_MS are deleted by the same statement.
 */
import { sql } from 'drizzle-orm';
import type { Database } from '../../shared/db/database.js';
import { queryRows } from '../../shared/db/query-rows.js';

/** How long after its end a minute is sampled: longer than a transition's transaction takes to commit. */
export const SETTLE_MS = 10_000;
/** How long samples are kept: the day chart's day, and a week to look back on. */
export const HISTORY_RETENTION_MS = 8 * 24 * 3600_000;

const MINUTE_MS = 60_000;

/** The start of the minute a run at `now` samples: the last one that ended at least SETTLE_MS before. */
export function sampledMinute(now: Date): Date {
  return new Date(Math.floor((now.getTime() - SETTLE_MS) / MINUTE_MS) * MINUTE_MS - MINUTE_MS);
}

/**
 * Samples the minute of `now` (sampledMinute) unless it was sampled already, and deletes samples past retention.
 * Answers the minute written, or null when another run had written it.
 */
export async function sampleUtilisation(db: Database, now: Date): Promise<Date | null> {
  const minute = sampledMinute(now);
  const from = minute.toISOString();
  const to = new Date(minute.getTime() + MINUTE_MS).toISOString();
  const expiredBefore = new Date(now.getTime() - HISTORY_RETENTION_MS).toISOString();
  const rows = await queryRows(
    db,
    sql`
      WITH claimed AS (
        INSERT INTO utilisation_minutes (minute, cpus_total)
        SELECT ${from}::timestamptz, coalesce(jsonb_object_agg(partition, cpus), '{}'::jsonb)
          FROM (SELECT partition, sum(cpus)::int AS cpus
                  FROM nodes, unnest(partitions) AS partition
                 WHERE state <> 'DOWN'
                 GROUP BY partition) AS capacity
        ON CONFLICT (minute) DO NOTHING
        RETURNING minute
      ),
      live AS (
        SELECT partition, account,
               count(*) FILTER (WHERE state = 'PENDING')::int AS pending,
               count(*) FILTER (WHERE state = 'RUNNING')::int AS running,
               coalesce(sum(cpus) FILTER (WHERE state = 'RUNNING'), 0)::int AS cpus_allocated
          FROM jobs WHERE state IN ('PENDING', 'RUNNING')
         GROUP BY partition, account
      ),
      ended AS (
        SELECT partition, account,
               count(*) FILTER (WHERE state = 'COMPLETED')::int AS completed,
               count(*) FILTER (WHERE state = 'FAILED')::int AS failed,
               count(*) FILTER (WHERE state = 'CANCELLED')::int AS cancelled,
               count(*) FILTER (WHERE state = 'TIMEOUT')::int AS timeout,
               count(*) FILTER (WHERE state = 'OUT_OF_MEMORY')::int AS out_of_memory,
               count(*) FILTER (WHERE state = 'NODE_FAIL')::int AS node_fail
          FROM jobs WHERE end_time >= ${from}::timestamptz AND end_time < ${to}::timestamptz
         GROUP BY partition, account
      ),
      started AS (
        SELECT partition, account,
               array_agg(greatest(0, floor(extract(epoch FROM start_time - submit_time)))::int
                         ORDER BY start_time - submit_time) AS waits
          FROM jobs WHERE start_time >= ${from}::timestamptz AND start_time < ${to}::timestamptz
         GROUP BY partition, account
      ),
      written AS (
        INSERT INTO utilisation_samples
        SELECT claimed.minute, keys.partition, keys.account,
               coalesce(live.pending, 0), coalesce(live.running, 0), coalesce(live.cpus_allocated, 0),
               coalesce(ended.completed, 0), coalesce(ended.failed, 0), coalesce(ended.cancelled, 0),
               coalesce(ended.timeout, 0), coalesce(ended.out_of_memory, 0), coalesce(ended.node_fail, 0),
               coalesce(started.waits, '{}')
          FROM claimed
         CROSS JOIN (SELECT partition, account FROM live
                     UNION SELECT partition, account FROM ended
                     UNION SELECT partition, account FROM started) AS keys
          LEFT JOIN live USING (partition, account)
          LEFT JOIN ended USING (partition, account)
          LEFT JOIN started USING (partition, account)
        ON CONFLICT (minute, partition, account) DO NOTHING
      ),
      expired AS (
        DELETE FROM utilisation_minutes WHERE minute < ${expiredBefore}::timestamptz
      )
      SELECT minute FROM claimed`,
  );
  return rows.length ? minute : null;
}
