/**
 * The recompute's write: a set-based UPDATE of the next PENDING jobs, in id order, whose computed priority
 * (priority-formula.ts) differs from their stored one, leaving those an admin set (admin_priority) as they are. At most
 * `limit` rows a statement: a first recompute over 100,000 jobs rewrites every row, which in one statement would pass
 * the hosts' statement timeout (30 s on a busy server) and hold every row's lock, and so every confirm, that long.
 * Rows a concurrent statement holds (a confirm making the job RUNNING, a cancel) are skipped rather than waited for,
 * so the recompute never holds up a transition; the next recompute catches them if they are still PENDING.
 */
import { sql } from 'drizzle-orm';
import type { PrioritySettings } from '../../shared/config/priority-settings.js';
import type { Database } from '../../shared/db/database.js';
import { queryRows } from '../../shared/db/query-rows.js';
import { formulaParameters, priorityExpression } from './priority-formula.js';
import { clusterCpus, maxTier } from './priority-inputs.js';

export interface PriorityChange {
  id: number;
  priority: number;
}

/**
 * Writes the priorities as of `now` of at most `limit` changed jobs with ids above `afterId`, and answers them (id, new
 * priority); fewer than `limit`: none is left past them. `withRefs`: the queue's refs are rows (the Postgres queue):
 * their priority is written in the same statement, so the claim order changes with the jobs'.
 */
export async function reprioritiseJobs(
  db: Database,
  settings: PrioritySettings,
  now: Date,
  options: { withRefs: boolean; afterId: number; limit: number },
): Promise<PriorityChange[]> {
  const computed = priorityExpression(formulaParameters(settings.weights, settings.maxAgeMs), {
    ageSeconds: sql`extract(epoch FROM ${now.toISOString()}::timestamptz - j.eligible_time)`,
    fairShare: sql`u.fairshare_factor`,
    cpus: sql`j.cpus`,
    clusterCpus: sql`cluster.cpus`,
    tier: sql`p.priority_tier`,
    maxTier: sql`cluster.max_tier`,
    nice: sql`j.nice`,
  });
  const refs = options.withRefs
    ? sql`, refs AS (UPDATE queue_refs r SET priority = c.priority FROM changed c WHERE r.job_id = c.id)`
    : sql``;
  const rows = await queryRows(
    db,
    sql`
      WITH cluster AS (
        SELECT ${clusterCpus} AS cpus, ${maxTier} AS max_tier
      ), wanted AS (
        SELECT j.id, ${computed} AS priority
        FROM jobs j
        CROSS JOIN cluster
        LEFT JOIN account_usage u ON u.account = j.account
        LEFT JOIN partitions p ON p.name = j.partition
        WHERE j.state = 'PENDING' AND j.admin_priority IS NULL AND j.id > ${options.afterId}
      ), locked AS (
        SELECT j.id, w.priority FROM jobs j JOIN wanted w ON w.id = j.id
        WHERE j.priority <> w.priority
        ORDER BY j.id
        LIMIT ${options.limit}
        FOR UPDATE OF j SKIP LOCKED
      ), changed AS (
        UPDATE jobs j SET priority = l.priority FROM locked l
        WHERE j.id = l.id AND j.state = 'PENDING' AND j.admin_priority IS NULL
        RETURNING j.id, j.priority
      )${refs}
      SELECT id, priority FROM changed
    `,
  );
  return rows.map((row) => ({ id: Number(row.id), priority: Number(row.priority) }));
}
