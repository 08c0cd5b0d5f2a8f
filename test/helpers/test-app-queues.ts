/**
 * A test app on each queue a submit or a confirm may go through: the Postgres queue on PGlite and on the Postgres
 * server, and the Redis queue (TCP) over the Postgres server. Closing one removes its database and its keys.
 */
import { ioredisClient } from '../../shared/queue/redis/ioredis-client.js';
import { RedisJobQueue } from '../../shared/queue/redis/redis-job-queue.js';
import { createTestApp, type TestApp } from './test-app.js';
import { backends } from './test-databases.js';
import { deleteKeys, REDIS_URL, redisUnreachable } from './test-redis.js';

export interface AppOnQueue {
  name: string;
  skip: string | undefined;
  open(): Promise<TestApp>;
}

export async function appsOnQueues(): Promise<AppOnQueue[]> {
  const [pglite, postgres] = await backends();
  const redisSkip = await redisUnreachable();
  return [
    ...[pglite!, postgres!].map((backend) => ({
      name: `the Postgres queue on ${backend.name}`,
      skip: backend.skip,
      open: () => createTestApp(backend),
    })),
    {
      name: 'the Redis queue',
      skip: postgres!.skip ?? redisSkip,
      async open() {
        const prefix = `test:app:${Date.now().toString(36)}:${Math.random().toString(36).slice(2, 8)}:`;
        const queue = new RedisJobQueue(ioredisClient(REDIS_URL), prefix);
        const t = await createTestApp(postgres!, { queue });
        return {
          ...t,
          async close() {
            await t.close();
            await queue.close();
            await deleteKeys(prefix);
          },
        };
      },
    },
  ];
}
