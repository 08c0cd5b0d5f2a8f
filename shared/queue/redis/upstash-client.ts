/** The Redis client port over Upstash's REST API (fetch only: the Workers host uses it). */
import { Redis } from '@upstash/redis';
import type { RedisClientPort } from './redis-client-port.js';

export function upstashClient(url: string, token: string): RedisClientPort {
  // Replies are the scripts' own strings and numbers: they must not be JSON-parsed on the way.
  const redis = new Redis({ url, token, automaticDeserialization: false });
  return {
    evalsha: (sha, keys, args) => redis.evalsha(sha, keys, args),
    eval: (source, keys, args) => redis.eval(source, keys, args),
    close: async () => {},
  };
}
