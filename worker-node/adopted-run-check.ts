/**
 * Whether an adopted run (one the daemon did not launch in this life, or whose launcher went away) has ended. No
 * launcher tells the daemon, so it looks: the status file its wrapper writes right after the job ends, and else its
 * process. A process gone without a status file had its wrapper killed too (both in one kill -9 of a session): after
 * a moment in which a wrapper that is only slow would have written the file, the run has ended all the same.
 */

// The wrapper writes the status file right after its job ends: a run gone this long without one lost its wrapper.
export const GONE_WITHOUT_STATUS_MS = 2000;

export interface AdoptedRunSeen {
  /** Its status file is there. */
  statusWritten: boolean;
  /** Its process is there (its pid names it, with the same start time). */
  alive: boolean;
}

export interface AdoptedRunVerdict {
  ended: boolean;
  /** When its process was first seen gone without a status file, to be passed in next time. */
  goneSince: number | undefined;
}

export function checkAdoptedRun(seen: AdoptedRunSeen, goneSince: number | undefined, now: number): AdoptedRunVerdict {
  if (seen.statusWritten) return { ended: true, goneSince };
  if (seen.alive) return { ended: false, goneSince };
  const since = goneSince ?? now;
  return { ended: now - since >= GONE_WITHOUT_STATUS_MS, goneSince: since };
}
