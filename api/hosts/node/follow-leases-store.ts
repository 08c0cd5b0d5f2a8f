/** The Node host's follow leases: in Redis when REDIS_URL is set (where the queue is), else in the database. */
import type { NodeHostConfig } from '../../../shared/config/node-host-config.js';
import type { Database } from '../../../shared/db/database.js';
import { ioredisClient } from '../../../shared/queue/redis/ioredis-client.js';
import { REQUEST_REDIS_RETRIES } from './node-queue.js';
import type { FollowLeases } from '../../follows/follow-leases.js';
import { PostgresFollowLeases } from '../../follows/postgres-follow-leases.js';
import { RedisFollowLeases } from '../../follows/redis-follow-leases.js';

export function openFollowLeases(
  config: NodeHostConfig,
  db: Database,
): { leases: FollowLeases; close(): Promise<void> } {
  if (!config.REDIS_URL) return { leases: new PostgresFollowLeases(db), close: async () => {} };
  const client = ioredisClient(config.REDIS_URL, { maxRetriesPerRequest: REQUEST_REDIS_RETRIES });
  return { leases: new RedisFollowLeases(client, config.CONDUCTOR_REDIS_PREFIX), close: () => client.close() };
}
