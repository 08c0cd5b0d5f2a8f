/** The Node host's queues: Redis over TCP when REDIS_URL is set, else the Postgres queue in the same database. */
import type { NodeHostConfig } from '../../../shared/config/node-host-config.js';
import type { Database } from '../../../shared/db/database.js';
import { queueTuning } from '../../../shared/config/queue-settings.js';
import type { JobQueue } from '../../../shared/queue/job-queue.js';
import { PostgresJobQueue } from '../../../shared/queue/postgres-job-queue.js';
import { ioredisClient } from '../../../shared/queue/redis/ioredis-client.js';
import { RedisJobQueue } from '../../../shared/queue/redis/redis-job-queue.js';

/**
 * Reconnects an API request waits through for Redis (ioredis's backoff: a few hundred ms), not the minute and more
 * the background loops wait. What then fails loses nothing: a submit's push is retried by the reconciler (the job
 * is marked not enqueued), anything else answers 503 and the client retries.
 */
export const REQUEST_REDIS_RETRIES = 3;

/**
 * `requests` serves the app's requests and answers soon when Redis is away; `background` serves the reconciler and
 * the local node, whose runs would only try again, and so wait through a Redis restart instead of failing it (a
 * reconciler run that fails while Redis restarts puts off the redispatch of every lost ref to its next run).
 */
export interface NodeQueues {
  requests: JobQueue;
  background: JobQueue;
  close(): Promise<void>;
}

export function openNodeQueues(config: NodeHostConfig, db: Database): NodeQueues {
  const tuning = queueTuning(config);
  if (!config.REDIS_URL) {
    const queue = new PostgresJobQueue(db, tuning);
    return { requests: queue, background: queue, close: () => queue.close() };
  }
  const redisQueue = (maxRetriesPerRequest?: number) =>
    new RedisJobQueue(
      ioredisClient(config.REDIS_URL!, maxRetriesPerRequest === undefined ? undefined : { maxRetriesPerRequest }),
      config.CONDUCTOR_REDIS_PREFIX,
      tuning,
    );
  const requests = redisQueue(REQUEST_REDIS_RETRIES);
  const background = redisQueue();
  return {
    requests,
    background,
    close: async () => {
      await Promise.all([requests.close(), background.close()]);
    },
  };
}
