/** The Redis server the suites use (REDIS_URL, default the local one), probed once, like the Postgres server. */
import { Redis as IORedis } from 'ioredis';

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const REQUIRE_SERVICES = process.env.CONDUCTOR_REQUIRE_SERVICES === '1';

let probe: Promise<string | undefined> | undefined;

/** Undefined when Redis answers, else why its suites are skipped (or, under CONDUCTOR_REQUIRE_SERVICES=1, fail). */
export function redisUnreachable(): Promise<string | undefined> {
  probe ??= (async () => {
    const client = new IORedis(REDIS_URL, {
      lazyConnect: true,
      connectTimeout: 2000,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    // The socket error (ECONNREFUSED, ...) says more than the "Connection is closed." that connect() rejects with.
    let socketError: Error | undefined;
    client.on('error', (error: Error) => (socketError ??= error));
    try {
      await client.connect();
      await client.ping();
      return undefined;
    } catch (error) {
      const reason = `Redis at ${REDIS_URL} is unreachable (${(socketError ?? (error as Error)).message})`;
      if (REQUIRE_SERVICES) throw new Error(`${reason}, and CONDUCTOR_REQUIRE_SERVICES=1`);
      console.warn(`skipping the Redis suites: ${reason}`);
      return reason;
    } finally {
      client.disconnect();
    }
  })();
  return probe;
}

/** Deletes every key under a prefix (a test's own). */
export async function deleteKeys(prefix: string): Promise<void> {
  const client = new IORedis(REDIS_URL);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      if (keys.length) await client.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    client.disconnect();
  }
}
