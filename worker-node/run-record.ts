/** What the daemon's journal keeps of each run (one attempt of a job on this node). */
import type { LogStream } from '../shared/logs/log-store.js';
import type { KillReason } from './job-ending.js';
import type { NodeJob } from '../shared/protocol/confirm.js';
import type { NodeEvent } from '../shared/protocol/events.js';

export interface RunRecord {
  /** The job as confirmed, script included: a run that never got to start is started from it after a crash. */
  job: NodeJob;
  jobId: number;
  attempt: number;
  /**
   * The cluster id of the API that confirmed the run: its output is stored under it. Absent when that API said none
   * (older than cluster ids), and in records journaled before them: their output goes under the old keys.
   */
  cluster?: string;
  /** The run's own directory: script, pid and exit-status files. */
  dir: string;
  /** The node's CPUs the run holds (the allocator's numbering), and the machine cores they are on. */
  slots: number[];
  cpuIds: number[];
  /**
   * Where this run's output starts in its files: their sizes as the job opened them (0 in a file it emptied), as its
   * wrapper says; until then, as they were at its admission. Absent in records journaled before output was shipped.
   */
  outputBase?: Record<LogStream, number>;
  /** Set once the wrapper has said them: with the start time, the pid names the process even after reuse. */
  pid?: number;
  startTime?: number;
  /**
   * The wrapper that waits for the job and writes its status file (pid and start time, as the pid file says): while
   * the run is unended, the wrapper gone means the run is lost. Absent in records of an older daemon.
   */
  wrapper?: { pid: number; start: number };
  /** The output files the job opened as its owner (`dev:ino`): the only files shipped as its output. */
  outputIds?: Record<LogStream, string>;
  /** Wall-clock ms of the start, for the time limit. */
  startedAt?: number;
  /**
   * Set, and journaled, before the job's warning signal (sbatch --signal) is sent: a restarted daemon does not send it
   * again. A crash between the two loses the warning rather than sending it twice.
   */
  warned?: boolean;
  /** Set, and journaled, before the first signal: a daemon that dies mid-kill still knows why. */
  kill?: KillReason;
  /** Why the run could not even start. */
  launchError?: string;
  /** It could not start for a reason of the job's (its files, its interpreter, its owner): not the node's fault. */
  launchFailedBy?: 'job';
  /** The process is gone and its outcome is in `outbox`. */
  ended?: boolean;
  /** Events the API has not acknowledged yet, oldest first. */
  outbox: NodeEvent[];
}

export const runKey = (run: { jobId: number; attempt: number }) => `${run.jobId}-${run.attempt}`;
