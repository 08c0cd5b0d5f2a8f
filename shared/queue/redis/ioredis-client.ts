/** Node-only: the Redis client port over a TCP connection (ioredis). */
import { Redis } from 'ioredis';
import type { RedisClientPort } from './redis-client-port.js';

/**
 * A command waits through `maxRetriesPerRequest` reconnects (ioredis's backoff: 50 ms more each, up to 2 s) before it
 * fails; 20 by default, over a minute while Redis is gone: a Redis restart delays a loop's work, it loses nothing.
 * Request paths pass fewer (api/hosts/node/node-queue.ts).
 */
export function ioredisClient(
  url: string,
  options: { maxRetriesPerRequest: number } = { maxRetriesPerRequest: 20 },
): RedisClientPort & { redis: Redis } {
  const redis = new Redis(url, { ...options, enableAutoPipelining: true });
  redis.on('error', () => {});
  return {
    redis,
    evalsha: (sha, keys, args) => redis.evalsha(sha, keys.length, ...keys, ...args),
    eval: (source, keys, args) => redis.eval(source, keys.length, ...keys, ...args),
    async close() {
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
