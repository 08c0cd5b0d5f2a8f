/**
 * Starts jobs again whose run ended in a way their retry policy names (retry-decision.ts decides): each goes back to
 * PENDING with its retry's event; its next start is a new attempt (confirm-claims.ts counts it), and the ended
 * attempt's reports are refused from then on (fencing), its output kept under its own attempt's keys. A retry with a
 * backoff waits out of the queue (reason BeginTime until its eligible_time: release-begun-jobs.ts ends the wait);
 * without one it is marked not enqueued, for the caller (pushOwedRefs) or the reconciler to push.
 */
import { sql, type SQL } from 'drizzle-orm';
import type { Database } from '../../shared/db/database.js';
import { queryRows } from '../../shared/db/query-rows.js';
import type { RetryPolicy } from '../../shared/job/retry-policy.js';
import type { Retry } from './retry-decision.js';
import { transitionJobs, type TransitionResult } from './transition-jobs.js';

/** What a retry decision reads of a RUNNING job (retry-decision.ts, EndedRun). */
export interface RetryInputs {
  id: number;
  policy: RetryPolicy | null;
  memoryMb: number;
  memoryCapMb: number | null;
}

/**
 * The retry inputs of jobs, by id (a job not there is absent). The memory cap: its partition's maximum per job and
 * the most memory a registered node of its partition has, the lower of the two (null when neither is known).
 */
export async function readRetryInputs(db: Database, ids: number[]): Promise<Map<number, RetryInputs>> {
  if (ids.length === 0) return new Map();
  const rows = await queryRows(
    db,
    sql`SELECT j.id, j.retry_policy, j.memory_mb,
               nullif(least(coalesce(p.max_memory_mb_per_job, 2147483647),
                            coalesce((SELECT max(n.memory_mb) FROM nodes n WHERE j.partition = ANY(n.partitions)),
                                     2147483647)), 2147483647) AS memory_cap_mb
        FROM jobs j LEFT JOIN partitions p ON p.name = j.partition
        WHERE j.id IN (${sql.join(
          ids.map((id) => sql`${id}`),
          sql`, `,
        )})`,
  );
  return new Map(
    rows.map((row) => [
      Number(row.id),
      {
        id: Number(row.id),
        policy: parsePolicy(row.retry_policy),
        memoryMb: Number(row.memory_mb),
        memoryCapMb: row.memory_cap_mb === null ? null : Number(row.memory_cap_mb),
      },
    ]),
  );
}

/** A run to retry: its job, the attempt that ended, the decision, and its batch's own values (`extra`). */
export interface RunToRetry {
  id: number;
  attempt: number;
  retry: Retry;
  values?: Record<string, unknown>;
}

/**
 * Moves RUNNING jobs back to PENDING for their retries, as one transition batch, guarded by the attempt that ended
 * (`current.attempt = input.attempt`), a cancel not asked for, and the caller's `where`. `inputs` and `set` add the
 * caller's own columns (a node's report adds the output it stored). Answers each job's result, in order.
 */
export async function retryRuns(
  db: Database,
  runs: RunToRetry[],
  options: { actor: string; where?: SQL; inputs?: Record<string, string>; set?: SQL },
): Promise<TransitionResult[]> {
  return transitionJobs(db, {
    jobs: runs.map(({ id, attempt, retry, values }) => ({
      id,
      to: 'PENDING',
      reason: retry.reason,
      values: { ...values, attempt, backoff_seconds: retry.backoffSeconds, memory_mb: retry.memoryMb },
    })),
    from: ['RUNNING'],
    inputs: { ...options.inputs, attempt: 'integer', backoff_seconds: 'integer', memory_mb: 'integer' },
    pendingReason: sql`CASE WHEN input.backoff_seconds > 0 THEN 'BeginTime' ELSE 'Priority' END`,
    set: sql`enqueued = false, node_name = NULL, start_time = NULL, cpu_ids = NULL, pid = NULL,
             memory_mb = input.memory_mb,
             eligible_time = CASE WHEN input.backoff_seconds > 0
                                  THEN now() + make_interval(secs => input.backoff_seconds)
                                  ELSE current.eligible_time END
             ${options.set ? sql`, ${options.set}` : sql``}`,
    where: sql`current.attempt = input.attempt AND current.cancel_requested_at IS NULL
               ${options.where ? sql`AND (${options.where})` : sql``}`,
    actor: options.actor,
  });
}

function parsePolicy(value: unknown): RetryPolicy | null {
  if (value === null || value === undefined) return null;
  // PGlite and pg answer jsonb parsed; a driver that answers text is read here.
  return (typeof value === 'string' ? JSON.parse(value) : value) as RetryPolicy;
}
