import { sql } from 'drizzle-orm';
import type { Database } from '../../shared/db/database.js';
import type { EventResult, FinishedEvent, NodeEvent, StartedEvent } from '../../shared/protocol/events.js';
import type { JobSummaryRow } from './job-summary.js';
import { keepLateReports } from './late-run-reports.js';
import { decideRetry, endCause } from './retry-decision.js';
import { readRetryInputs, retryRuns } from './retry-runs.js';
import { recordRunUsage } from './run-usage.js';
import { transitionJobs, type TransitionResult } from './transition-jobs.js';

/**
 * Applies a node's batch of events (shared/protocol/events.ts) as one transition batch per kind, each guarded by
 * node and attempt and recorded in its job's history; answers each event's result, in order. Every answer is an
 * acknowledgement (the node's outbox forgets the event): applied now; a duplicate (a retry finds its own effect); or
 * refused for good, because it is about another attempt or another node (fencing: a job requeued after its node was
 * lost runs again as a new attempt, and the old one's reports change nothing). Starts go first: a job's start always
 * comes before its end in a node's outbox, and the order between different jobs does not matter. A refused end of a
 * run settled while its node was lost is kept in its job's events (late-run-reports.ts). What an accepted run used is
 * kept per attempt (run-usage.ts).
 */
export async function applyNodeEvents(
  db: Database,
  node: string,
  events: NodeEvent[],
  actor: string,
): Promise<EventResult[]> {
  const results: EventResult[] = new Array(events.length);
  const numbered = events.map((event, n) => ({ event, n }));
  const starts = numbered.filter((item): item is { event: StartedEvent; n: number } => item.event.kind === 'started');
  const ends = numbered.filter((item): item is { event: FinishedEvent; n: number } => item.event.kind === 'finished');
  const thisRun = sql`current.node_name = ${node} AND current.attempt = input.attempt`;
  // The output a run stored adds to its job's (each attempt's is kept under its own keys); an older daemon says none.
  const addOutputBytes = sql`output_bytes = CASE WHEN input.output_bytes IS NULL THEN current.output_bytes
                                               ELSE coalesce(current.output_bytes, 0) + input.output_bytes END`;
  if (starts.length) {
    const applied = await transitionJobs(db, {
      jobs: starts.map(({ event }) => ({
        id: Number(event.job_id),
        to: 'RUNNING',
        reason: `process ${event.pid} started on cores ${event.cpu_ids.join(',')}`,
        values: { attempt: event.attempt, pid: event.pid, cpu_ids: event.cpu_ids },
      })),
      from: ['RUNNING'],
      inputs: { attempt: 'integer', pid: 'integer', cpu_ids: 'integer[]' },
      set: sql`pid = input.pid, cpu_ids = input.cpu_ids`,
      where: sql`${thisRun} AND current.pid IS NULL`,
      actor,
    });
    starts.forEach(({ event, n }, i) => (results[n] = resultOf(applied[i]!, node, event)));
  }
  if (ends.length) {
    // What each run used, kept before its end is applied: whoever sees the job ended sees that too.
    await recordRunUsage(
      db,
      node,
      ends.flatMap(({ event }) =>
        event.usage ? [{ jobId: Number(event.job_id), attempt: event.attempt, usage: event.usage }] : [],
      ),
    );
    // A run whose end its job's retry policy names (a run its node stopped at its lease's end, one its node could not
    // start, …: retry-decision.ts) goes back to PENDING, as a new attempt at its next start.
    // Only ends a policy could retry read their jobs' policies: a batch of COMPLETED runs reads nothing more.
    const retryable = ends.filter(({ event }) => endCause(event) !== null);
    const inputs = await readRetryInputs(db, [...new Set(retryable.map(({ event }) => Number(event.job_id)))]);
    const retried = retryable.flatMap(({ event, n }) => {
      const job = inputs.get(Number(event.job_id));
      const retry = job && decideRetry({ ...job, attempt: event.attempt, outcome: event });
      return retry ? [{ event, n, retry }] : [];
    });
    const requeued = await retryRuns(
      db,
      retried.map(({ event, retry }) => ({
        id: Number(event.job_id),
        attempt: event.attempt,
        retry,
        values: { output_bytes: event.output_bytes },
      })),
      { actor, where: thisRun, inputs: { output_bytes: 'bigint' }, set: addOutputBytes },
    );
    retried.forEach(({ n }, i) => {
      if (requeued[i]!.applied) results[n] = 'applied';
    });
    const rest = ends.filter(({ n }) => results[n] === undefined);
    const applied = await transitionJobs(db, {
      jobs: rest.map(({ event }) => ({
        id: Number(event.job_id),
        to: event.state,
        reason: endingReason(event),
        values: {
          attempt: event.attempt,
          exit_status: event.exit_status,
          exit_signal: event.exit_signal,
          error_msg: event.error_msg ?? null,
          output_bytes: event.output_bytes,
        },
      })),
      from: ['RUNNING'],
      inputs: {
        attempt: 'integer',
        exit_status: 'integer',
        exit_signal: 'integer',
        error_msg: 'text',
        output_bytes: 'bigint',
      },
      set: sql`exit_status = input.exit_status, exit_signal = input.exit_signal, error_msg = input.error_msg,
               ${addOutputBytes}`,
      where: thisRun,
      actor,
    });
    rest.forEach(({ event, n }, i) => (results[n] = resultOf(applied[i]!, node, event)));
    // What really happened to the runs settled while the node was lost: kept in their jobs' events. A run stopped at
    // its lease's end is reported NODE_FAIL, the state it was settled to: a duplicate by state, news all the same.
    await keepLateReports(
      db,
      node,
      rest.filter(({ n }) => results[n] !== 'applied').map(({ event }) => event),
      actor,
    );
  }
  return results;
}

/** An event's result from its job as the batch found it (before its own write), and whether it applied. */
function resultOf({ applied, before }: TransitionResult<JobSummaryRow>, node: string, event: NodeEvent): EventResult {
  if (!before) return 'refused';
  if (applied) return 'applied';
  const sameRun = before.nodeName === node && before.attempt === event.attempt;
  if (!sameRun) return 'refused';
  // A start reported after its own ending (the outbox sent them out of order) is a duplicate too.
  if (event.kind === 'started') return before.pid === null || before.pid === event.pid ? 'duplicate' : 'refused';
  return before.state === event.state ? 'duplicate' : 'refused';
}

/**
 * The reason kept in a job's events for its run's end. A job that could not start for a reason of its own (its
 * node sends FAILED with exit status 0 and no signal: a job that ran and exited 0 is COMPLETED) is
 * `launch_failed: job`, then why, so a retry policy tells it from a node's fault.
 */
function endingReason(event: FinishedEvent): string {
  const why = event.error_msg ?? 'finished';
  return event.state === 'FAILED' && event.exit_status === 0 && event.exit_signal === null
    ? `launch_failed: job: ${why}`
    : why;
}
