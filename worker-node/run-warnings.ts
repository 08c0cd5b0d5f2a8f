/**
 * When a run gets the warning signal its job asked for (sbatch's --signal, sbatch(1)): `seconds` before its time
 * limit, counted from its start, as the limit is (run-limits.ts). A warning whose time is at or before the start (its
 * seconds not below the limit) is due at once, as Slurm sends it as soon as it can; a job with no time limit is never
 * warned, there being no end to warn of. Once per run (`warned`, journaled before it is sent), and never to a run the
 * daemon is ending already.
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
}

/** The keys of the runs whose warning is due at `now` (ms). */
export function warningsDue(runs: readonly WarnedRun[], now: number): string[] {
  return runs
    .filter((run) => {
      if (run.warnSeconds === undefined || run.warned || run.kill || run.timeLimitSeconds === null) return false;
      const at = run.startedAt + Math.max(0, run.timeLimitSeconds - run.warnSeconds) * 1000;
      return now >= at;
    })
    .map((run) => run.key);
}
