/**
 * Time limits as the original SCNS-Conductor read them (`core/utils/time_utils.py:parse_time_limit`), for its paths
 * (`POST /jobs/submit`), so that its clients' values keep their meaning. Unlike Slurm (`shared/job/time-limit.ts`):
 * - digits alone are minutes: "30";
 * - otherwise, "[D-]H[:M[:S]]": "2" after a day part is hours, "1:30" is 1 h 30 min (Slurm: 1 min 30 s), "1:30:15"
 *   is 1 h 30 min 15 s (the original dropped the seconds; they are kept here);
 * - parts are not bounded ("1:90" is 2 h 30 min), and each is read as Python's int() reads text: Unicode
 *   whitespace around it, a sign, any script's decimal digits ("３０"), "_" between digits. So "+30", which is not
 *   all digits, is 30 hours, as it was;
 * - the original never read the seconds part, so one that is not a number ("1:30:") is ignored, as it was;
 * - a total of zero ("0", "0:00") is no limit, as the original's falsy 0 was.
 * Refused: what the original refused (any other form, "UNLIMITED"), what it let slip (negative parts, which only
 * get past it after a day part: "1--5", "1-2:-30"), and what a job row cannot hold (2^31 seconds and more: 68 years).
 */
import { TimeLimitError, type TimeLimit } from './time-limit.js';
import { echo } from '../echo.js';

/** The longest limit a job row holds: its column is a 32-bit integer of seconds. */
export const MAX_ORIGINAL_TIME_LIMIT_SECONDS = 2 ** 31 - 1;

// What Python's str.isspace() (so strip() and int()) takes for whitespace; JavaScript's trim() differs (it takes
// U+FEFF, and not U+001C-U+001F or U+0085).
const PY_SPACE = '[\\t\\n\\x0b\\x0c\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]';
const PY_STRIP = new RegExp(`^${PY_SPACE}+|${PY_SPACE}+$`, 'g');
// Python's int() on text: a sign, then decimal digits of any script with single "_" between them.
const PY_INT = /^([+-]?)(\p{Nd}+(?:_\p{Nd}+)*)$/u;
const PY_DIGITS = /^\p{Nd}+$/u;

/** Seconds, or null for no limit. Throws TimeLimitError naming what is wrong. */
export function parseOriginalTimeLimit(input: string): TimeLimit {
  const text = input.replace(PY_STRIP, '');
  const seconds = PY_DIGITS.test(text) ? decimal(text) * 60 : hoursForm(text, input);
  if (seconds === 0) return null;
  if (seconds > MAX_ORIGINAL_TIME_LIMIT_SECONDS) {
    throw new TimeLimitError(`must be less than ${2 ** 31} seconds (68 years); "0" is no limit`);
  }
  return seconds;
}

function hoursForm(text: string, input: string): number {
  const dash = text.indexOf('-');
  const days = dash === -1 ? 0 : part(text.slice(0, dash), input);
  const parts = (dash === -1 ? text : text.slice(dash + 1)).split(':');
  if (parts.length > 3) throw notOriginal(input);
  const hours = part(parts[0]!, input);
  const minutes = parts.length > 1 ? part(parts[1]!, input) : 0;
  // The original never read the seconds: one it could not have read is ignored, as it was.
  const seconds = parts.length > 2 && pythonInt(parts[2]!) !== undefined ? part(parts[2]!, input) : 0;
  return days * 86400 + hours * 3600 + minutes * 60 + seconds;
}

function part(value: string, input: string): number {
  const number = pythonInt(value);
  if (number === undefined) throw notOriginal(input);
  if (number < 0) throw new TimeLimitError(`"${echo(input)}" has a negative part`);
  return number;
}

/** The integer Python's int() reads from `value`, or undefined where it would raise ValueError. */
function pythonInt(value: string): number | undefined {
  const match = PY_INT.exec(value.replace(PY_STRIP, ''));
  if (!match) return undefined;
  const magnitude = decimal(match[2]!.replaceAll('_', ''));
  return match[1] === '-' ? -magnitude : magnitude;
}

/** The value of a run of decimal digits of any script. */
function decimal(digits: string): number {
  let value = 0;
  for (const digit of digits) value = value * 10 + digitValue(digit);
  return value;
}

/**
 * A decimal digit's value. Unicode encodes each script's digits 0-9 in order and contiguously (one block may hold
 * several such runs back to back), so a digit's value is its distance from the start of its block, modulo 10.
 */
function digitValue(digit: string): number {
  const code = digit.codePointAt(0)!;
  if (code >= 0x30 && code <= 0x39) return code - 0x30;
  let start = code;
  while (PY_DIGITS.test(String.fromCodePoint(start - 1))) start -= 1;
  return (code - start) % 10;
}

function notOriginal(input: string): TimeLimitError {
  return new TimeLimitError(
    `"${echo(input)}" is not a time limit of the original API: use minutes ("30"), "H:M", "H:M:S", "D-H", "D-H:M", "D-H:M:S", or "0" for no limit`,
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
