/**
 * Per-run accounting (issue 21): what each run used, as its node reported it with the run's end
 * (shared/protocol/run-usage.ts), kept one row per attempt in run_usage (migration 0027), as sacct keeps one per
 * step; and read back as the job's latest run's, for its views.
 */
import { desc, inArray, sql } from 'drizzle-orm';
import type { Database } from '../../shared/db/database.js';
import { runUsage, type RunUsageRow } from '../../shared/db/schema.js';
import type { RunUsage } from '../../shared/protocol/run-usage.js';

/** One run's usage as a node reported it. */
export interface ReportedUsage {
  jobId: number;
  attempt: number;
  usage: RunUsage;
}

/**
 * Keeps each run's usage, reported by `node`, before its end is applied (a client that sees the job ended sees its
 * usage too); a run's first report stands (a retried event changes nothing). Only for a run the API confirmed to this
 * node (the job's node and attempt are the report's): fencing keeps any other node's report out, as it keeps out its
 * state. A run settled NODE_FAIL while its node was lost is accounted when the node comes back (it did run there);
 * one requeued since is not (its job names no node until its next start).
 */
export async function recordRunUsage(db: Database, node: string, reports: ReportedUsage[]): Promise<void> {
  if (reports.length === 0) return;
  const input = reports.map(({ jobId, attempt, usage }) => ({ id: jobId, attempt, ...usage }));
  await db.execute(sql`
    WITH input AS (
      SELECT * FROM jsonb_to_recordset(${JSON.stringify(input)}::jsonb) AS input(
        id bigint, attempt integer, cpu_user_ms bigint, cpu_system_ms bigint, max_rss_bytes bigint, wall_ms bigint,
        cpu_source text, memory_source text)
    )
    INSERT INTO run_usage (job_id, attempt, node_name, cpu_user_ms, cpu_system_ms, max_rss_bytes, wall_ms, cpu_source,
                           memory_source)
    SELECT j.id, input.attempt, ${node}, input.cpu_user_ms, input.cpu_system_ms, input.max_rss_bytes, input.wall_ms,
           input.cpu_source, input.memory_source
    FROM input JOIN jobs j ON j.id = input.id AND j.node_name = ${node} AND j.attempt = input.attempt
    ON CONFLICT (job_id, attempt) DO NOTHING
  `);
}

/** Each of the jobs `ids`' latest run's usage (its highest attempt that reported one): one query for a batch. */
export async function latestRunUsage(db: Database, ids: number[]): Promise<Map<number, RunUsageRow>> {
  if (ids.length === 0) return new Map();
  const rows = await db
    .selectDistinctOn([runUsage.jobId])
    .from(runUsage)
    .where(inArray(runUsage.jobId, ids))
    .orderBy(runUsage.jobId, desc(runUsage.attempt));
  return new Map(rows.map((row) => [row.jobId, row]));
}
