/**
 * A job's begin time in sbatch's --begin formats (sbatch(1), "-b, --begin"; Slurm's parse_time()):
 * - a time of day `HH:MM[:SS]`, optionally followed by `AM` or `PM` (with or without a space), or one of the words
 *   `midnight` (00:00), `noon` (12:00), `elevenses` (11:00), `fika` (15:00), `teatime` (16:00);
 * - a date `MMDD[YY]`, `MM/DD[/YY]` or `MM.DD[.YY]`, or the words `today`, `tomorrow`;
 * - a time of day and a date together, separated by a space, in either order (`16:00 tomorrow`, `noon 1231`);
 * - `YYYY-MM-DD[THH:MM[:SS]]`;
 * - `now[+count[seconds|minutes|hours|days|weeks]]` (a bare count is seconds; `now-count` is also read, as Slurm
 *   does, and is simply a time already past).
 * A time of day alone that has passed today is tomorrow's; a date without a year that has passed this year is next
 * year's (Slurm's rules). A date without a time is its midnight.
 *
 * Time zone: UTC, always, unless the string says otherwise: `YYYY-MM-DDTHH:MM[:SS]` may end with `Z` or an offset
 * (`+02:00`). Slurm reads these in slurmctld's local time; an API that runs on Workers has no local time, so this one
 * is UTC wherever the API runs, and the job's `eligible_time` is answered in UTC.
 */
import { echo } from '../echo.js';

/** A string that is none of sbatch's --begin formats, or a date that does not exist. */
export class BeginTimeError extends Error {}

/** The latest begin accepted: sbatch takes any, but a begin further off than this is a typo, not a plan. */
export const MAX_BEGIN_DAYS = 366 * 5;

const DAY_MS = 24 * 3600 * 1000;

const WORD_TIMES: Record<string, number> = { midnight: 0, noon: 12, elevenses: 11, fika: 15, teatime: 16 };

const UNIT_SECONDS: Record<string, number> = {
  s: 1,
  sec: 1,
  secs: 1,
  second: 1,
  seconds: 1,
  min: 60,
  mins: 60,
  minute: 60,
  minutes: 60,
  h: 3600,
  hour: 3600,
  hours: 3600,
  d: 86400,
  day: 86400,
  days: 86400,
  w: 604800,
  week: 604800,
  weeks: 604800,
};

const FORMATS =
  'use HH:MM[:SS] [AM|PM], MMDD[YY], MM/DD[/YY], YYYY-MM-DD[THH:MM[:SS]], now[+count[seconds|minutes|hours|days|weeks]], midnight, noon, elevenses, fika, teatime, today or tomorrow';

/**
 * The instant `text` names, read against `now`. Throws BeginTimeError (its message says what is wrong and which
 * formats there are) for any other string, a date that does not exist (`02/30`), or a time more than MAX_BEGIN_DAYS
 * away.
 */
export function parseBeginTime(text: string, now: Date): Date {
  const input = text.trim().toLowerCase();
  const begin = readBegin(input, now);
  if (begin === null) throw new BeginTimeError(`"${echo(text)}" is not a begin time: ${FORMATS}`);
  // NaN: a count so large that no Date holds it (`now+99999999999999weeks`), as far off as can be.
  const ahead = begin.getTime() - now.getTime();
  if (Number.isNaN(ahead) || ahead > MAX_BEGIN_DAYS * DAY_MS) {
    throw new BeginTimeError(`"${echo(text)}" is more than ${MAX_BEGIN_DAYS} days away`);
  }
  return begin;
}

function readBegin(input: string, now: Date): Date | null {
  const relative = /^now\s*(?:([+-])\s*(\d+)\s*([a-z]*))?$/.exec(input);
  if (relative) {
    if (relative[1] === undefined) return now;
    const unit = UNIT_SECONDS[relative[3] || 's'];
    if (unit === undefined) return null;
    const sign = relative[1] === '-' ? -1 : 1;
    return new Date(now.getTime() + sign * Number(relative[2]) * unit * 1000);
  }
  const iso = /^(\d{4})-(\d{2})-(\d{2})(?:t(\d{2}):(\d{2})(?::(\d{2}))?(z|[+-]\d{2}:?\d{2})?)?$/.exec(input);
  if (iso) return isoInstant(iso);
  return dayAndTime(input.replace(/\s+(am|pm)\b/g, '$1').split(/\s+/), now);
}

/** `YYYY-MM-DD[THH:MM[:SS]][Z|±HH:MM]`: UTC unless it gives an offset. */
function isoInstant(match: RegExpExecArray): Date | null {
  const [year, month, day, hour = 0, minute = 0, second = 0] = match.slice(1, 7).map((part) => Number(part ?? 0));
  const utc = utcDate(year!, month!, day!, hour, minute, second);
  if (utc === null) return null;
  const zone = match[7];
  if (zone === undefined || zone === 'z') return utc;
  const offset = /^([+-])(\d{2}):?(\d{2})$/.exec(zone)!;
  const minutes = Number(offset[2]) * 60 + Number(offset[3]);
  if (Number(offset[2]) > 23 || Number(offset[3]) > 59) return null;
  return new Date(utc.getTime() - (offset[1] === '-' ? -1 : 1) * minutes * 60_000);
}

/** At most one time of day and one date, in either order. */
function dayAndTime(words: string[], now: Date): Date | null {
  if (words.length === 0 || words.length > 2) return null;
  let time: number | null | undefined;
  let day: Date | null | undefined;
  for (const word of words) {
    const seconds = timeOfDay(word);
    if (seconds !== undefined) {
      if (time !== undefined) return null;
      time = seconds;
      continue;
    }
    const date = dateOf(word, now);
    if (date === undefined || day !== undefined) return null;
    day = date;
  }
  if (time === null || day === null) return null;
  const today = startOfDay(now);
  if (day === undefined) {
    // A time of day alone: today's, or tomorrow's once it has passed.
    const at = new Date(today.getTime() + time! * 1000);
    return at.getTime() < now.getTime() ? new Date(at.getTime() + DAY_MS) : at;
  }
  return new Date(day.getTime() + (time ?? 0) * 1000);
}

/** Seconds after midnight of a time of day; undefined: not one; null: shaped like one but out of range. */
function timeOfDay(word: string): number | null | undefined {
  const named = WORD_TIMES[word];
  if (named !== undefined) return named * 3600;
  const match = /^(\d{1,2}):(\d{2})(?::(\d{2}))?(am|pm)?$/.exec(word);
  if (!match) return undefined;
  let hour = Number(match[1]);
  const [minute, second] = [Number(match[2]), Number(match[3] ?? 0)];
  if (minute > 59 || second > 59) return null;
  if (match[4] !== undefined) {
    if (hour < 1 || hour > 12) return null;
    hour = (hour % 12) + (match[4] === 'pm' ? 12 : 0);
  } else if (hour > 23) return null;
  return hour * 3600 + minute * 60 + second;
}

/** Midnight (UTC) of a date word; undefined: not one; null: shaped like one but no such date. */
function dateOf(word: string, now: Date): Date | null | undefined {
  const today = startOfDay(now);
  if (word === 'today') return today;
  if (word === 'tomorrow') return new Date(today.getTime() + DAY_MS);
  const match = /^(\d{2})(\d{2})(\d{2})?$/.exec(word) ?? /^(\d{1,2})([/.])(\d{1,2})(?:\2(\d{2}))?$/.exec(word);
  if (!match) return undefined;
  const [month, day, year] =
    match[2] === '/' || match[2] === '.'
      ? [Number(match[1]), Number(match[3]), match[4]]
      : [Number(match[1]), Number(match[2]), match[3]];
  if (year !== undefined) return utcDate(2000 + Number(year), month, day, 0, 0, 0);
  // Without a year: this year's, or next year's once it has passed (Slurm's parse_time).
  const thisYear = utcDate(now.getUTCFullYear(), month, day, 0, 0, 0);
  if (thisYear === null || thisYear.getTime() >= today.getTime()) return thisYear;
  return utcDate(now.getUTCFullYear() + 1, month, day, 0, 0, 0);
}

function startOfDay(now: Date): Date {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
}

/** The UTC instant of a calendar date and time, or null when no such date exists (02-30, month 13). */
function utcDate(year: number, month: number, day: number, hour: number, minute: number, second: number): Date | null {
  if (hour > 23 || minute > 59 || second > 59) return null;
  const date = new Date(Date.UTC(year, month - 1, day, hour, minute, second));
  if (date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) return null;
  return date;
}
