/** The line a daemon prints once it is up: where it takes work from and where it reports, as configured. */

export interface ClaimOrigin {
  apiUrl: string;
  redisUrl?: string;
  upstashUrl?: string;
}

/**
 * `claiming from Redis at redis://queue-host:6379/, reporting to the API at https://api…`, or from Upstash, or
 * `claiming through the API at …` when the daemon has neither. Credentials in a URL are left out: the line goes to the
 * journal, which more people read than the environment file.
 */
export function startLine(origin: ClaimOrigin): string {
  const api = withoutCredentials(origin.apiUrl);
  if (origin.redisUrl)
    return `claiming from Redis at ${withoutCredentials(origin.redisUrl)}, reporting to the API at ${api}`;
  if (origin.upstashUrl)
    return `claiming from Upstash at ${withoutCredentials(origin.upstashUrl)}, reporting to the API at ${api}`;
  return `claiming through the API at ${api}`;
}

function withoutCredentials(url: string): string {
  const parsed = new URL(url);
  parsed.username = '';
  parsed.password = '';
  return parsed.toString();
}
