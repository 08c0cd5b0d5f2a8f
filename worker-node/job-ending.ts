/**
 * How a run ended, as the API is told: the daemon's own reason for ending it (cancel, time limit, memory) wins over
 * what the process did when it got the signal; otherwise exit status 0 is COMPLETED and anything else FAILED.
 */
import type { FinishedEvent, RunOutcome } from '../shared/protocol/events.js';
import type { RunUsage } from '../shared/protocol/run-usage.js';
import type { JobExit } from './job-process.js';
import type { RunRecord } from './run-record.js';

/**
 * Why the daemon ended a run. STOPPED: the API says the run is no longer this node's; it is not reported.
 * WRAPPER_LOST: the run's wrapper (the parent that waits for the job and writes its outcome) disappeared, killed by
 * the job or anyone: nothing could tell its outcome any more. A job-side failure, FAILED, never requeued.
 * LEASE_EXPIRED: the node could not renew its lease with the API (node-lease.ts), and stopped the run before the API
 * could settle it and start it elsewhere (the daemon, or its wrapper when the daemon was gone): NODE_FAIL, retried
 * as its job's policy says (node_fail).
 * DAEMON_LOST_WRAPPER: the run's wrapper was already gone, without an outcome, when the daemon started again (lost in
 * the daemon's own crash or restart: a service manager that kills the daemon's whole process group, a reboot): the
 * node's failure, not the job's: NODE_FAIL, retried as its job's policy says (node_fail).
 */
export type KillReason =
  'CANCELLED' | 'TIMEOUT' | 'OUT_OF_MEMORY' | 'STOPPED' | 'WRAPPER_LOST' | 'LEASE_EXPIRED' | 'DAEMON_LOST_WRAPPER';

/** The error_msg of a run stopped at its node's lease's end. */
export const LEASE_EXPIRED_MESSAGE = "stopped before its node's lease with the API ended: the node could not renew it";

/** The error_msg of a run whose wrapper was lost with its daemon. */
export const DAEMON_LOST_WRAPPER_MESSAGE =
  "its wrapper was lost while the node's daemon was down (its crash or restart): the job was ended, its outcome unknown";

/** The error_msg of a run whose wrapper was lost. */
export const WRAPPER_LOST_MESSAGE = 'its wrapper was lost (killed while the job ran): the job was ended';

export function jobEnding(
  exit: JobExit | undefined,
  kill: KillReason | undefined,
  limits: { timeLimitSeconds: number | null; memoryMb: number },
): RunOutcome {
  const code = { exit_status: exit?.exitStatus ?? null, exit_signal: exit?.signal ?? null };
  switch (kill) {
    case 'CANCELLED':
      return { state: 'CANCELLED', ...code, error_msg: 'cancelled' };
    case 'TIMEOUT':
      return { state: 'TIMEOUT', ...code, error_msg: `time limit of ${limits.timeLimitSeconds} s reached` };
    case 'OUT_OF_MEMORY':
      return { state: 'OUT_OF_MEMORY', ...code, error_msg: `used more than its ${limits.memoryMb} MB of memory` };
    case 'WRAPPER_LOST':
      return { state: 'FAILED', ...code, error_msg: WRAPPER_LOST_MESSAGE };
    case 'LEASE_EXPIRED':
      return { state: 'NODE_FAIL', ...code, error_msg: LEASE_EXPIRED_MESSAGE };
    case 'DAEMON_LOST_WRAPPER':
      return { state: 'NODE_FAIL', ...code, error_msg: DAEMON_LOST_WRAPPER_MESSAGE };
    default:
      break;
  }
  if (!exit) {
    return { state: 'FAILED', ...code, error_msg: 'the job process ended without leaving its exit status' };
  }
  if (exit.signal !== null) return { state: 'FAILED', ...code, error_msg: `killed by signal ${exit.signal}` };
  if (exit.exitStatus === 0) return { state: 'COMPLETED', ...code, error_msg: null };
  return { state: 'FAILED', ...code, error_msg: `exit status ${exit.exitStatus}` };
}

/**
 * The exit code of a run that never started. A job's own failure to start (its directory, its output files, its
 * interpreter): exit status 0 and no signal, 0:0 as Slurm shows it, never an errno posing as the script's status;
 * FAILED with status 0 is how the API tells it (apply-node-event.ts: `launch_failed: job`), since a job that ran
 * and exited 0 is COMPLETED. The node's fault (no free cores, its cgroups): no code at all, as before.
 */
function launchFailureCode(record: Pick<RunRecord, 'launchFailedBy'>): Pick<RunOutcome, 'exit_status' | 'exit_signal'> {
  return record.launchFailedBy === 'job'
    ? { exit_status: 0, exit_signal: null }
    : { exit_status: null, exit_signal: null };
}

/**
 * What the API is told of a run's end: its outcome and what it used (run-usage.ts), or why it could not start. Nothing for a run the API asked to stop:
 * the API has ended it there already.
 */
export function finishedEvent(
  record: Pick<RunRecord, 'jobId' | 'attempt' | 'job' | 'kill' | 'launchError' | 'launchFailedBy'>,
  exit: JobExit | undefined,
  /** What it used (run-usage.ts); undefined for a run that never started, or one no source could tell. */
  usage?: RunUsage,
): FinishedEvent | undefined {
  if (record.kill === 'STOPPED') return undefined;
  const ending: RunOutcome = record.launchError
    ? { state: 'FAILED', ...launchFailureCode(record), error_msg: record.launchError }
    : jobEnding(exit, record.kill, { timeLimitSeconds: record.job.time_limit_seconds, memoryMb: record.job.memory_mb });
  return {
    kind: 'finished',
    job_id: String(record.jobId),
    attempt: record.attempt,
    ...ending,
    ...(usage ? { usage } : {}),
  };
}
