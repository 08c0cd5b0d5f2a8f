/**
 * The little the Redis queue needs from a Redis client: run a script by SHA, or by source. Both Upstash's REST
 * client (Workers) and a TCP client (Node) implement it, so the queue code is the same on both hosts.
 */
export interface RedisClientPort {
  evalsha(sha: string, keys: string[], args: string[]): Promise<unknown>;
  eval(source: string, keys: string[], args: string[]): Promise<unknown>;
  close(): Promise<void>;
}
