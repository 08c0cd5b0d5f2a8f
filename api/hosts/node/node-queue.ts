/** The Node host's queue: Redis over TCP when REDIS_URL is set, else the Postgres queue in the same database. */
import type { NodeHostConfig } from '../../../shared/config/node-host-config.js';
import type { Database } from '../../../shared/db/database.js';
import type { JobQueue, QueueTuning } from '../../../shared/queue/job-queue.js';
import { PostgresJobQueue } from '../../../shared/queue/postgres-job-queue.js';
import { ioredisClient } from '../../../shared/queue/redis/ioredis-client.js';
import { RedisJobQueue } from '../../../shared/queue/redis/redis-job-queue.js';

export function openNodeQueue(config: NodeHostConfig, db: Database): JobQueue {
  const tuning: QueueTuning = {
    window: config.CONDUCTOR_CLAIM_WINDOW,
    starvationMs: config.CONDUCTOR_STARVATION_SECONDS * 1000,
  };
  return config.REDIS_URL
    ? new RedisJobQueue(ioredisClient(config.REDIS_URL), config.CONDUCTOR_REDIS_PREFIX, tuning)
    : new PostgresJobQueue(db, tuning);
}
