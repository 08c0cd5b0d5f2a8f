/** Job rows as the /v1 API shows them: snake_case, sizes and limits in their submit formats, UTC timestamps. */
import type { z } from '@hono/zod-openapi';
import type { JobEventRow, JobRow, RunUsageRow } from '../../../../shared/db/schema.js';
import { runEfficiency } from '../../../../shared/job/run-efficiency.js';
import { formatMemorySize } from '../../../../shared/job/memory-size.js';
import { expandOutputPath } from '../../../../shared/job/output-path.js';
import { arrayTaskView, outputNames } from '../../../jobs/array-task-view.js';
import { formatTimeLimit } from '../../../../shared/job/time-limit.js';
import { formatWarnSignal } from '../../../../shared/job/warn-signal.js';
import type { Job, JobDetail, JobEvent } from './schema.js';
import type { JobSummaryRow } from '../../../jobs/job-summary.js';
import type { PendingReason } from '../../../jobs/pending-reasons.js';
import type { PriorityFactors } from '../../../priority/priority-factors.js';

/**
 * A job as /v1 shows it; `now`: the time its elapsed time runs to while it runs; `pending`: its reason as read now
 * (pending-reasons.ts), over the stored one.
 */
export function jobView(row: JobSummaryRow, now: Date, pending?: PendingReason): z.infer<typeof Job> {
  // A job naming no user runs as its node's own user: its %u is expanded on the node's view only (nodeJobView).
  const names = { ...outputNames(row), user: row.user, node: row.nodeName };
  const ended = row.exitStatus !== null || row.exitSignal !== null;
  return {
    id: String(row.id),
    ...arrayTaskView(row),
    name: row.name,
    account: row.account,
    user: row.user,
    partition: row.partition,
    state: row.state,
    reason: pending?.reason ?? row.reason,
    reason_detail: pending?.detail ?? null,
    priority: row.priority,
    requeue: row.requeue,
    attempt: row.attempt,
    submitted_by: row.submittedBy,
    cpus: row.cpus,
    ntasks_per_node: row.ntasksPerNode,
    cpus_per_task: row.cpusPerTask,
    memory_per_node: formatMemorySize(row.memoryMb),
    time_limit: formatTimeLimit(row.timeLimitSeconds),
    exclusive: row.exclusive,
    current_working_directory: row.workDir,
    standard_output: expandOutputPath(row.stdoutPattern, names),
    standard_error: expandOutputPath(row.stderrPattern, names),
    node: row.nodeName,
    cpu_ids: row.cpuIds,
    exit_code: ended ? { status: row.exitStatus, signal: row.exitSignal } : null,
    error_msg: row.errorMsg,
    cancel_requested: row.cancelRequestedAt !== null,
    open_mode: row.openMode,
    signal: row.warnSignal === null ? null : formatWarnSignal(row.warnSignal),
    directives: row.directives,
    warnings: row.warnings,
    submit_time: row.submitTime.toISOString(),
    eligible_time: row.eligibleTime.toISOString(),
    start_time: row.startTime?.toISOString() ?? null,
    end_time: row.endTime?.toISOString() ?? null,
    wait_seconds: row.startTime === null ? null : seconds(row.startTime.getTime() - row.submitTime.getTime()),
    elapsed_seconds: row.startTime === null ? null : seconds((row.endTime ?? now).getTime() - row.startTime.getTime()),
  };
}

/** Whole seconds, as sacct shows them; never negative (a clock behind the database's start time). */
function seconds(ms: number): number {
  return Math.max(0, Math.floor(ms / 1000));
}

/** What the job's latest run used (`usage`: its run_usage row, if any) and how well, as seff (run-efficiency.ts). */
export function accountingView(
  row: Pick<JobSummaryRow, 'cpus' | 'memoryMb'>,
  usage: RunUsageRow | undefined,
): Pick<z.infer<typeof JobDetail>, 'usage' | 'efficiency'> {
  if (!usage) return { usage: null, efficiency: null };
  return {
    usage: {
      cpu_user_ms: usage.cpuUserMs,
      cpu_system_ms: usage.cpuSystemMs,
      max_rss_bytes: usage.maxRssBytes,
      wall_ms: usage.wallMs,
      cpu_source: usage.cpuSource,
      memory_source: usage.memorySource,
      attempt: usage.attempt,
      node: usage.nodeName,
    },
    efficiency: runEfficiency(usage, row),
  };
}

export function jobDetailView(
  row: JobRow,
  now: Date,
  pending: PendingReason | undefined,
  factors: PriorityFactors | null,
  dependency: string | null,
  usage: RunUsageRow | undefined,
): z.infer<typeof JobDetail> {
  return {
    ...jobView(row, now, pending),
    ...accountingView(row, usage),
    environment: row.environment,
    script: row.script,
    retry: row.retryPolicy,
    priority_factors: factors,
    dependency,
  };
}

/** A job event as /v1 shows it. */
export function jobEventView(row: JobEventRow): z.infer<typeof JobEvent> {
  return {
    attempt: row.attempt,
    from_state: row.fromState,
    to_state: row.toState,
    at: row.at.toISOString(),
    actor: row.actor,
    reason: row.reason,
    kind: row.kind,
    changes: row.changes,
  };
}
