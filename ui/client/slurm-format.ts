/**
 * How the console shows jobs, in Slurm's own forms so that its users read it as they read squeue and sacct:
 * - stateCode: squeue's compact state codes (squeue(1), "JOB STATE CODES");
 * - formatDuration: squeue's TIME column, `M:SS`, `H:MM:SS`, `D-HH:MM:SS`;
 * - formatExit: sacct's ExitCode, `status:signal`.
 */
import type { Job } from './api.js';

const STATE_CODES: Record<Job['state'], string> = {
  PENDING: 'PD',
  RUNNING: 'R',
  COMPLETED: 'CD',
  FAILED: 'F',
  CANCELLED: 'CA',
  TIMEOUT: 'TO',
  OUT_OF_MEMORY: 'OOM',
  NODE_FAIL: 'NF',
};

export const stateCode = (state: Job['state']): string => STATE_CODES[state];

export const isTerminal = (state: Job['state']): boolean => state !== 'PENDING' && state !== 'RUNNING';

/** A duration in ms as squeue's TIME: `0:07`, `12:34`, `1:02:03`, `2-01:02:03`. Negative counts as 0. */
export function formatDuration(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const days = Math.floor(total / 86_400);
  const hours = Math.floor((total % 86_400) / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = String(total % 60).padStart(2, '0');
  if (days > 0) return `${days}-${String(hours).padStart(2, '0')}:${String(minutes).padStart(2, '0')}:${seconds}`;
  if (hours > 0) return `${hours}:${String(minutes).padStart(2, '0')}:${seconds}`;
  return `${minutes}:${seconds}`;
}

/** How long the job has run (to its end, or to `now`); 0 before it started. */
export function elapsedMs(job: Pick<Job, 'start_time' | 'end_time'>, now: number): number {
  if (!job.start_time) return 0;
  const end = job.end_time ? Date.parse(job.end_time) : now;
  return end - Date.parse(job.start_time);
}

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
