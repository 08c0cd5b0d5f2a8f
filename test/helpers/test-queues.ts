/**
 * Every queue implementation the conformance suite runs against: Redis through a TCP client, Redis through
 * @upstash/redis and the REST bridge, and the Postgres queue on PGlite and on the Postgres server. Each opened queue
 * is its own (a key prefix, or a database), and closing it removes what it left.
 */
import { DEFAULT_QUEUE_TUNING, type JobQueue, type QueueTuning } from '../../shared/queue/job-queue.js';
import { PostgresJobQueue } from '../../shared/queue/postgres-job-queue.js';
import { ioredisClient } from '../../shared/queue/redis/ioredis-client.js';
import { RedisJobQueue } from '../../shared/queue/redis/redis-job-queue.js';
import { upstashClient } from '../../shared/queue/redis/upstash-client.js';
import { startUpstashRestBridge } from '../fixtures/upstash-rest-bridge.js';
import { backends, createTestDatabase, type TestDatabase } from './test-databases.js';
import { deleteKeys, REDIS_URL, redisUnreachable } from './test-redis.js';

export interface OpenQueue {
  queue: JobQueue;
  /** The database of a Postgres queue, where its jobs live too. */
  database?: TestDatabase;
  close(): Promise<void>;
}

export interface QueueBackend {
  name: string;
  skip: string | undefined;
  open(tuning?: Partial<QueueTuning>): Promise<OpenQueue>;
}

const uniquePrefix = () => `test:${Date.now().toString(36)}:${Math.random().toString(36).slice(2, 8)}:`;

export async function queueBackends(): Promise<QueueBackend[]> {
  const redisSkip = await redisUnreachable();
  const [pglite, postgres] = await backends();
  const tuned = (tuning: Partial<QueueTuning> = {}) => ({ ...DEFAULT_QUEUE_TUNING, ...tuning });
  const postgresQueue = (backend: typeof pglite) => async (tuning?: Partial<QueueTuning>) => {
    const database = await createTestDatabase(backend!, { poolSize: 25 });
    return { queue: new PostgresJobQueue(database.db, tuned(tuning)), database, close: () => database.destroy() };
  };
  return [
    {
      name: 'redis (TCP)',
      skip: redisSkip,
      async open(tuning) {
        const prefix = uniquePrefix();
        const queue = new RedisJobQueue(ioredisClient(REDIS_URL), prefix, tuned(tuning));
        return {
          queue,
          async close() {
            await queue.close();
            await deleteKeys(prefix);
          },
        };
      },
    },
    {
      name: 'redis (Upstash REST)',
      skip: redisSkip,
      async open(tuning) {
        const prefix = uniquePrefix();
        const bridge = await startUpstashRestBridge({ redisUrl: REDIS_URL });
        const queue = new RedisJobQueue(upstashClient(bridge.url, bridge.token), prefix, tuned(tuning));
        return {
          queue,
          async close() {
            await queue.close();
            await bridge.close();
            await deleteKeys(prefix);
          },
        };
      },
    },
    { name: 'postgres queue (PGlite)', skip: pglite!.skip, open: postgresQueue(pglite) },
    { name: 'postgres queue (server)', skip: postgres!.skip, open: postgresQueue(postgres) },
  ];
}
