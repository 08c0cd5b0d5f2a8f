/**
 * When a run gets the warning signal its job asked for (sbatch's --signal, sbatch(1)): `seconds` before its time
 * limit, counted from its start, as the limit is (run-limits.ts). A warning whose time is at or before the start (its
 * seconds not below the limit) is due at once, as Slurm sends it as soon as it can; a job with no time limit is never
 * warned, there being no end to warn of. Once per run (`warned`, journaled before it is sent), and never to a run the
 * daemon is ending already. A warning due at the start for the batch shell (`B:`) waits until the shell catches (or
 * ignores) that signal: just started, it has not yet run its `trap` line (a program, set its handler), and the
 * signal's default action would end the very job it warns, or not, as the race with its start-up went. One that never
 * catches it is never sent it (it could only end it).
 */
import type { KillReason } from './job-ending.js';

export interface WarnedRun {
  key: string;
  /** Wall-clock ms of its start. */
  startedAt: number;
  timeLimitSeconds: number | null;
  /** Seconds before the limit; undefined: the job asked for no warning. */
  warnSeconds: number | undefined;
  /** The warning was sent already (or is being sent). */
  warned: boolean;
  /** Why the daemon is ending it, if it is. */
  kill?: KillReason;
  /**
   * For a warning to the batch shell only (`B:`): whether the shell catches or ignores the signal now. Undefined for
   * a warning to the job's steps.
   */
  batchHandles?: boolean;
}

/** Ms after its start at which a run's warning is due: at its start (0) when its seconds are not below the limit. */
export function warningAt(run: Pick<WarnedRun, 'timeLimitSeconds' | 'warnSeconds'>): number | undefined {
  if (run.warnSeconds === undefined || run.timeLimitSeconds === null) return undefined;
  return Math.max(0, run.timeLimitSeconds - run.warnSeconds) * 1000;
}

/** The keys of the runs whose warning is due at `now` (ms). */
export function warningsDue(runs: readonly WarnedRun[], now: number): string[] {
  return runs
    .filter((run) => {
      const at = warningAt(run);
      if (at === undefined || run.warned || run.kill) return false;
      if (at === 0 && run.batchHandles === false) return false;
      return now >= run.startedAt + at;
    })
    .map((run) => run.key);
}
