/**
 * How squeue shows a job, for the CLI's tables and the web console alike: its compact state codes (squeue(1), "JOB
 * STATE CODES") and its TIME column.
 */
import type { JobState } from './job-state.js';

/** squeue's compact state codes: `PD`, `R`, `CD`, …. */
export const STATE_CODES: Readonly<Record<JobState, string>> = {
  PENDING: 'PD',
  RUNNING: 'R',
  COMPLETED: 'CD',
  FAILED: 'F',
  CANCELLED: 'CA',
  TIMEOUT: 'TO',
  OUT_OF_MEMORY: 'OOM',
  NODE_FAIL: 'NF',
};

/** squeue's TIME for a duration in seconds: `0:07`, `12:34`, `1:02:03`, `2-01:02:03`. Negative counts as 0. */
export function squeueTime(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  const days = Math.floor(s / 86_400);
  const hours = Math.floor((s % 86_400) / 3600);
  const minutes = Math.floor((s % 3600) / 60);
  const pad = (n: number) => String(n).padStart(2, '0');
  if (days > 0) return `${days}-${pad(hours)}:${pad(minutes)}:${pad(s % 60)}`;
  if (hours > 0) return `${hours}:${pad(minutes)}:${pad(s % 60)}`;
  return `${minutes}:${pad(s % 60)}`;
}

/** Seconds a job has run: from its start to its end, or to `now` (ms) while it runs; 0 before it started. */
export function runSeconds(job: { start_time: string | null; end_time: string | null }, now = Date.now()): number {
  if (!job.start_time) return 0;
  const end = job.end_time ? Date.parse(job.end_time) : now;
  return (end - Date.parse(job.start_time)) / 1000;
}
