/** Node-only: the Redis client port over a TCP connection (ioredis). */
import { Redis } from 'ioredis';
import type { RedisClientPort } from './redis-client-port.js';

export function ioredisClient(
  url: string,
  // Commands wait for a reconnect rather than fail at once: a Redis restart delays dispatch, it loses nothing.
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
