/**
 * How the console shows jobs, in Slurm's own forms so that its users read it as they read squeue and sacct:
 * - stateCode: squeue's compact state codes (squeue(1), "JOB STATE CODES");
 * - runTime: squeue's TIME column, `M:SS`, `H:MM:SS`, `D-HH:MM:SS`;
 * - formatExit: sacct's ExitCode, `status:signal`.
 */
import { runSeconds, squeueTime, STATE_CODES } from '../../shared/job/squeue-display.js';
import type { Job } from './api.js';

export const stateCode = (state: Job['state']): string => STATE_CODES[state];

export const isTerminal = (state: Job['state']): boolean => state !== 'PENDING' && state !== 'RUNNING';

/** How long the job has run, as squeue's TIME (shared/job/squeue-display.ts), to its end or to `now` (ms). */
export const runTime = (job: Pick<Job, 'start_time' | 'end_time'>, now: number): string =>
  squeueTime(runSeconds(job, now));

/** sacct's ExitCode: `0:0`, `1:0`, `0:9`; `—` before the job ended. */
export function formatExit(exit: Job['exit_code']): string {
  if (!exit) return '—';
  return `${exit.status ?? 0}:${exit.signal ?? 0}`;
}

/** A timestamp in the reader's time zone, to the second: `2026-11-30 21:40:05`. */
export function formatTime(iso: string | null): string {
  if (!iso) return '—';
  const date = new Date(iso);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${pad(date.getHours())}:${pad(
    date.getMinutes(),
  )}:${pad(date.getSeconds())}`;
}

/** Signal numbers' names (Linux), for an exit by signal. */
const SIGNALS: Record<number, string> = { 1: 'SIGHUP', 2: 'SIGINT', 6: 'SIGABRT', 9: 'SIGKILL', 15: 'SIGTERM' };

export const signalName = (signal: number): string => SIGNALS[signal] ?? `signal ${signal}`;
