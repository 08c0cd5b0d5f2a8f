/**
 * Time limits as the original SCNS-Conductor read them (`core/utils/time_utils.py:parse_time_limit`), for its paths
 * (`POST /jobs/submit`), so that its clients' values keep their meaning. Unlike Slurm (`shared/job/time-limit.ts`):
 * - digits alone are minutes: "30";
 * - otherwise, "[D-]H[:M[:S]]": "2" after a day part is hours, "1:30" is 1 h 30 min (Slurm: 1 min 30 s), "1:30:15"
 *   is 1 h 30 min 15 s (the original dropped the seconds; they are kept here);
 * - parts are not bounded ("1:90" is 2 h 30 min), and each is read as Python's int() reads text (surrounding spaces,
 *   a "+", "_" between digits), so "+30", which is not all digits, is 30 hours, as it was;
 * - a total of zero ("0", "0:00") is no limit, as the original's falsy 0 was.
 * Refused: what the original refused (any other form, a JSON number, "UNLIMITED") and what it let slip (negative
 * parts after a day part, such as "1--5" or "1-2:-30"); and, as on every path, more than 365 days.
 */
import { MAX_TIME_LIMIT_SECONDS, TimeLimitError, type TimeLimit } from './time-limit.js';

// Python's int() on text, ASCII digits only: spaces around, an optional sign, "_" between digits.
const PYTHON_INT = /^\s*([+-]?)(\d+(?:_\d+)*)\s*$/;

/** Seconds, or null for no limit. Throws TimeLimitError naming what is wrong. */
export function parseOriginalTimeLimit(input: string): TimeLimit {
  const text = input.trim();
  const seconds = /^\d+$/.test(text) ? Number(text) * 60 : hoursForm(text);
  if (seconds === 0) return null;
  if (seconds > MAX_TIME_LIMIT_SECONDS) throw new TimeLimitError('must be at most 365 days; "0" is no limit');
  return seconds;
}

function hoursForm(text: string): number {
  const dash = text.indexOf('-');
  const days = dash === -1 ? 0 : part(text.slice(0, dash), text);
  const parts = (dash === -1 ? text : text.slice(dash + 1)).split(':');
  if (parts.length > 3) throw notOriginal(text);
  const [hours = 0, minutes = 0, seconds = 0] = parts.map((value) => part(value, text));
  return days * 86400 + hours * 3600 + minutes * 60 + seconds;
}

function part(value: string, text: string): number {
  const match = PYTHON_INT.exec(value);
  if (!match) throw notOriginal(text);
  if (match[1] === '-' && /[1-9]/.test(match[2]!)) throw new TimeLimitError(`"${text}" has a negative part`);
  return Number(match[2]!.replaceAll('_', ''));
}

function notOriginal(text: string): TimeLimitError {
  return new TimeLimitError(
    `"${text}" is not a time limit of the original API: use minutes ("30"), "H:M", "H:M:S", "D-H", "D-H:M", "D-H:M:S", or "0" for no limit`,
  );
}

/**
 * The original's `limit_time`: "H:MM:SS" below a day, "D-HH:MM:SS" from one day, "UNLIMITED" for none
 * (`format_limit_time`), with the seconds a limit now keeps.
 */
export function formatOriginalTimeLimit(limit: TimeLimit): string {
  if (limit === null) return 'UNLIMITED';
  const days = Math.floor(limit / 86400);
  const hours = Math.floor((limit % 86400) / 3600);
  const rest = `${pad(Math.floor((limit % 3600) / 60))}:${pad(limit % 60)}`;
  return days > 0 ? `${days}-${pad(hours)}:${rest}` : `${hours}:${rest}`;
}

const pad = (n: number) => String(n).padStart(2, '0');
