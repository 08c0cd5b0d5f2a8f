/**
 * Time limits in Slurm's formats. A plain number is minutes, as in sbatch. "UNLIMITED" (or "INFINITE") is the only
 * way to ask for no limit: 0 is refused, so that a forgotten value never silently means "run forever".
 */
import { echo } from '../echo.js';

export const MAX_TIME_LIMIT_SECONDS = 365 * 24 * 3600;

/** Seconds, or null for an explicit unlimited. */
export type TimeLimit = number | null;

export class TimeLimitError extends Error {}

const UNLIMITED = new Set(['UNLIMITED', 'INFINITE']);

export function parseTimeLimit(input: string | number): TimeLimit {
  const text = String(input).trim();
  if (UNLIMITED.has(text.toUpperCase())) return null;
  const seconds = parseSlurmDuration(text);
  if (seconds === 0) throw new TimeLimitError('must be more than 0; use "UNLIMITED" for no limit');
  if (seconds > MAX_TIME_LIMIT_SECONDS) throw new TimeLimitError('must be at most 365 days');
  return seconds;
}

function parseSlurmDuration(text: string): number {
  const match = /^(?:(\d+)-)?(\d+(?::\d+){0,2})$/.exec(text);
  if (!match) {
    throw new TimeLimitError(
      `"${echo(text)}" is not a Slurm time: use M, M:S, H:M:S, D-H, D-H:M, D-H:M:S or "UNLIMITED"`,
    );
  }
  const days = match[1] === undefined ? undefined : Number(match[1]);
  const parts = match[2]!.split(':').map(Number);
  if (days === undefined) {
    // Without days: M, M:S, H:M:S.
    if (parts.length === 1) return parts[0]! * 60;
    if (parts.length === 2) return parts[0]! * 60 + below(parts[1]!, 60, 'seconds');
    return parts[0]! * 3600 + below(parts[1]!, 60, 'minutes') * 60 + below(parts[2]!, 60, 'seconds');
  }
  // With days: D-H, D-H:M, D-H:M:S.
  const [hours = 0, minutes = 0, seconds = 0] = parts;
  return (
    days * 86400 + below(hours, 24, 'hours') * 3600 + below(minutes, 60, 'minutes') * 60 + below(seconds, 60, 'seconds')
  );
}

function below(value: number, limit: number, unit: string): number {
  if (value >= limit) throw new TimeLimitError(`${unit} must be below ${limit} in this format`);
  return value;
}

/** "[D-]HH:MM:SS": Slurm's elapsed time, as sacct and squeue show it (the days only when there are some). */
export function formatElapsed(totalSeconds: number): string {
  const full = formatDuration(totalSeconds);
  return full.startsWith('0-') ? full.slice(2) : full;
}

/** "D-HH:MM:SS", the form the original API answers with. */
export function formatDuration(totalSeconds: number): string {
  const s = Math.max(0, Math.floor(totalSeconds));
  const days = Math.floor(s / 86400);
  const hours = Math.floor((s % 86400) / 3600);
  const minutes = Math.floor((s % 3600) / 60);
  const seconds = s % 60;
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${days}-${pad(hours)}:${pad(minutes)}:${pad(seconds)}`;
}

export function formatTimeLimit(limit: TimeLimit): string {
  return limit === null ? 'UNLIMITED' : formatDuration(limit);
}
