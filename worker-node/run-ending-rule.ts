/**
 * The one rule for "has this run ended, and with what outcome", used wherever the daemon decides it: at start-up for
 * every journaled run (run-recovery.ts), and every tick for every running run, its own or adopted (run-watch.ts).
 * A pure function of what was seen of the run, and of a clock the caller keeps.
 *
 * A run's outcome is written by its wrapper (job-launcher.pl), the job's parent: it waits for the job (`waitpid`)
 * and writes the status file right after. So:
 * - The status file is there: the run has ended, as the file says.
 * - Its wrapper lives: the run has not ended, whatever its job's process looks like. A job process that is a zombie,
 *   or gone, only means the wrapper is between the job's end and its status file (the chaos run of issue 13 caught
 *   a restarted daemon settling such a run FAILED "without leaving its exit status", a job that had succeeded).
 * - Its wrapper is gone (or a zombie: it has exited, and can write nothing more) and no status file is there: nothing
 *   will tell the outcome. Only once it has been seen so for longer than `WRAPPER_GRACE_MS` is the run given up as
 *   ended with its outcome unknown (FAILED, saying so); never sooner.
 * - A record of an older daemon names no wrapper: its job process stands in for it, and a zombie job is not gone
 *   (its parent has yet to collect it, and will write the status then).
 * The facts are read in this order: the processes first, then the status file, since the wrapper writes the file
 * before it exits; `gone` means known gone (process-table.ts: a process whose /proc entry cannot be read is alive).
 */
import type { JobExit } from './job-process.js';
import type { ProcessState } from './process-table.js';

/**
 * How long a run's wrapper must have been seen gone without a status file before its outcome is given up as unknown,
 * in ms. The wrapper writes the file before it exits, so the wait covers only the order of the daemon's reads and a
 * record naming no wrapper (then the job's process is watched, whose wrapper may still be writing): a few seconds
 * on a machine busy enough to hold a process off the CPU that long.
 */
export const WRAPPER_GRACE_MS = 3000;

export interface RunFacts {
  /** The status file's content, or undefined while there is none. Read after the process states. */
  status: JobExit | undefined;
  /** The job's main process, by its pid and start time. */
  job: ProcessState;
  /** The wrapper's process, by its pid and start time; undefined when the run's record names no wrapper. */
  wrapper: ProcessState | undefined;
}

export type RunEnding =
  /** Running, or its wrapper has yet to write its status. */
  | { ended: false }
  /** Ended, as its status file says. */
  | { ended: true; exit: JobExit }
  /**
   * Ended with its outcome unknown: its wrapper gone without a status for longer than the grace. `jobAlive`: its job
   * still runs (its wrapper was killed under it), and is to be ended.
   */
  | { ended: true; exit: undefined; jobAlive: boolean };

export interface RunEndingVerdict {
  ending: RunEnding;
  /** When the run was first seen without its wrapper (ms, the caller's clock), to be passed in next time. */
  goneSince: number | undefined;
}

/** `goneSince`: the last verdict's (undefined at first sight); `now`: the caller's clock, in ms. */
export function runEnding(facts: RunFacts, goneSince: number | undefined, now: number): RunEndingVerdict {
  if (facts.status) return { ending: { ended: true, exit: facts.status }, goneSince };
  // Whose life tells whether a status file may still come: the wrapper's, or for a record naming none, the job's.
  const writer = facts.wrapper ?? (facts.job === 'zombie' ? 'alive' : facts.job);
  if (writer === 'alive') return { ending: { ended: false }, goneSince: undefined };
  const since = goneSince ?? now;
  if (now - since < WRAPPER_GRACE_MS) return { ending: { ended: false }, goneSince: since };
  return { ending: { ended: true, exit: undefined, jobAlive: facts.job === 'alive' }, goneSince: since };
}
