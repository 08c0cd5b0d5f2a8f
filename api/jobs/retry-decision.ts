/**
 * Whether a run's end starts its job again (issue 20): the end's cause → its class (shared/job/retry-policy.ts) → the
 * job's policy says. A pure decision: retry-runs.ts reads its inputs and writes what it decides.
 *
 * How a run's end is told apart (worker-node/job-ending.ts, job-launcher.ts, apply-node-event.ts):
 * - NODE_FAIL: its node was settled as lost, stopped the run at its lease's end, or found its wrapper gone when its
 *   daemon started again (lost in the daemon's crash or restart) → node_fail;
 * - FAILED with no exit status and no signal, its message "cannot start on <node>: …": its node could not start it
 *   (fork, its cgroups, its own spool or script file) → node_launch_failed. A job that could not start for a reason
 *   of its own (its directory, output files, interpreter, owner) is FAILED with exit status 0 instead: job-side;
 * - TIMEOUT → timeout; OUT_OF_MEMORY → oom;
 * - FAILED with an exit status and no signal → that exit code, retried when the policy names it;
 * - anything else (COMPLETED, CANCELLED, a signal, a wrapper the job killed, an outcome nobody could tell): never.
 */
import type { RetryClass, RetryPolicy } from '../../shared/job/retry-policy.js';
import type { RunOutcome } from '../../shared/protocol/events.js';

/** The prefix of the message of a run its node could not start (worker-node/run-supervisor.ts, launch). */
export const NODE_LAUNCH_PREFIX = 'cannot start on ';

/** What ended a run, as retries see it: a class of the policy's, or the script's own exit code. */
export type EndCause = { class: RetryClass } | { exitCode: number };

/** The cause of a run's end, or null for an end that no policy retries. */
export function endCause(outcome: RunOutcome): EndCause | null {
  switch (outcome.state) {
    case 'NODE_FAIL':
      return { class: 'node_fail' };
    case 'TIMEOUT':
      return { class: 'timeout' };
    case 'OUT_OF_MEMORY':
      return { class: 'oom' };
    case 'FAILED':
      if (outcome.exit_signal !== null) return null;
      if (outcome.exit_status === null) {
        return outcome.error_msg?.startsWith(NODE_LAUNCH_PREFIX) ? { class: 'node_launch_failed' } : null;
      }
      // Exit status 0 with FAILED: a launch refused for the job's own reason (job-ending.ts), never its exit code.
      return outcome.exit_status === 0 ? null : { exitCode: outcome.exit_status };
    default:
      return null;
  }
}

/** A retry decided: what the job's next wait and request are, and the event that says why. */
export interface Retry {
  /** The retry's event: `node n1 lost: retried (node_fail) as attempt 2 of 6`. */
  reason: string;
  /** Seconds the job waits (BeginTime) before it is queued again; 0: queued at once. */
  backoffSeconds: number;
  /** The memory its next attempt asks for, in MB. */
  memoryMb: number;
}

export interface EndedRun {
  /** The job's policy (jobs.retry_policy); null: never retried. */
  policy: RetryPolicy | null;
  /** The attempt that ended: the count of runs so far. */
  attempt: number;
  /** The memory the attempt asked for, in MB. */
  memoryMb: number;
  /**
   * The most memory an attempt of the job may ask for, in MB: its partition's maximum per job and the most a node of
   * its partition has, whichever is lower; null: no bound known (then an OOM retry keeps its memory).
   */
  memoryCapMb: number | null;
  outcome: RunOutcome;
}

/** The retry a run's end earns, or null: the end stands (its class not in the policy, or its attempts used up). */
export function decideRetry(run: EndedRun): Retry | null {
  const { policy, attempt, outcome } = run;
  if (policy === null) return null;
  const cause = endCause(outcome);
  if (cause === null) return null;
  const named = 'class' in cause ? policy.on.includes(cause.class) : policy.exit_codes.includes(cause.exitCode);
  if (!named || attempt >= policy.max_attempts) return null;
  const memoryMb =
    'class' in cause && cause.class === 'oom' ? raisedMemory(run, policy.oom_memory_factor) : run.memoryMb;
  const label = 'class' in cause ? cause.class : `exit code ${cause.exitCode}`;
  // What happened first: a lost node's retry starts `node n1 lost`, as late-run-reports.ts finds it.
  const why = outcome.error_msg ?? outcome.state;
  const details = [
    `retried (${label}) as attempt ${attempt + 1} of ${policy.max_attempts}`,
    ...(policy.backoff_seconds > 0 ? [`after ${policy.backoff_seconds} s`] : []),
    ...(memoryMb !== run.memoryMb ? [`with ${memoryMb} MB of memory (was ${run.memoryMb} MB)`] : []),
  ];
  return { reason: `${why}: ${details.join(', ')}`, backoffSeconds: policy.backoff_seconds, memoryMb };
}

/**
 * The memory of an OOM retry: the attempt's times the factor, rounded up to a MB, at most the cap (a job its partition
 * could not take, or no node of it could hold, would wait for ever), never less than it had.
 */
export function raisedMemory(
  { memoryMb, memoryCapMb }: Pick<EndedRun, 'memoryMb' | 'memoryCapMb'>,
  factor: number,
): number {
  if (factor <= 1 || memoryCapMb === null) return memoryMb;
  return Math.max(memoryMb, Math.min(Math.ceil(memoryMb * factor), memoryCapMb));
}
