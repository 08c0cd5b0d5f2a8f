/**
 * How much of a refused value an answer or a log line repeats: at most ECHO_MAX characters (issue 12, item 8), so
 * that a 1 MiB value refused is not sent back, nor logged, whole.
 */
export const ECHO_MAX = 200;

/** The text, cut to ECHO_MAX code points with "…" when longer. */
export function echo(text: string, max = ECHO_MAX): string {
  if (text.length <= max) return text;
  const points = Array.from(text);
  return points.length > max ? `${points.slice(0, max).join('')}…` : text;
}

/** A JSON value with every string in it (keys too) cut by echo(), and at most ECHO_MAX members per object or array. */
export function echoValue(value: unknown): unknown {
  if (typeof value === 'string') return echo(value);
  if (Array.isArray(value)) return value.slice(0, ECHO_MAX).map(echoValue);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value)
        .slice(0, ECHO_MAX)
        .map(([key, member]) => [echo(key), echoValue(member)]),
    );
  }
  return value;
}
