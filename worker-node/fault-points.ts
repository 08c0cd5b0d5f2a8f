/**
 * Test-only fault points of the daemon: the narrow windows where its death must still leave the outcome exact. With
 * CONDUCTOR_TEST_CRASH_AT=<point> the daemon SIGKILLs itself the first time it reaches that point, as a crash there
 * would (nothing after it runs, nothing is flushed). `npm run build:node` defines the variable away, so a built
 * daemon has no fault point; only a test sets it, on a daemon it then starts again without it.
 *
 * - `launch.journaled`: a confirmed run is in the journal, its job not yet handed to the launcher;
 * - `launch.started`: the job runs (its wrapper wrote the pid file), the daemon has not taken its pid in;
 * - `run.ended`: the run ended and its output is all stored, its end not yet reported to the API.
 */
export const DAEMON_FAULT_POINTS = ['launch.journaled', 'launch.started', 'run.ended'] as const;
export type DaemonFaultPoint = (typeof DAEMON_FAULT_POINTS)[number];

const crashAt = process.env.CONDUCTOR_TEST_CRASH_AT;

/** Dies here when told to (see above); a no-op otherwise. */
export function faultPoint(point: DaemonFaultPoint): void {
  if (crashAt === point) process.kill(process.pid, 'SIGKILL');
}
