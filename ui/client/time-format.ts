/**
 * Times as the console shows them besides slurm-format.ts's absolute ones: relative for what is about now (`12 s
 * ago`), and the `datetime-local` inputs' own form for filters.
 */

const pad = (n: number) => String(n).padStart(2, '0');

/** How long ago `iso` was from `now` (ms): `5 s ago`, `3 min ago`, `2 h ago`, `4 d ago`; `in the future` past now. */
export function formatAgo(iso: string, now: number): string {
  const seconds = Math.round((now - Date.parse(iso)) / 1000);
  if (seconds < -1) return 'in the future';
  if (seconds < 60) return `${Math.max(0, seconds)} s ago`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)} h ago`;
  return `${Math.floor(seconds / 86_400)} d ago`;
}

/** A time as a `datetime-local` input's value (`2026-11-30T21:40`, local). */
export function toLocalInput(date: Date): string {
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(
    date.getMinutes(),
  )}`;
}

/** A `datetime-local` input's value as RFC 3339 (UTC), or undefined when empty or unreadable. */
export function fromLocalInput(value: string): string | undefined {
  if (!value) return undefined;
  const time = new Date(value).getTime();
  return Number.isNaN(time) ? undefined : new Date(time).toISOString();
}
