/**
 * The Workers host: the same app as the Node host, over Neon's serverless driver (Postgres over a WebSocket), with
 * its queue on Upstash Redis over REST. Web-standard APIs only. The Cron trigger runs the reconciler.
 */
import { Pool } from '@neondatabase/serverless';
import { drizzle } from 'drizzle-orm/neon-serverless';
import type { ExecutionContext } from 'hono';
import type { Database } from '../../../shared/db/database.js';
import { schema } from '../../../shared/db/schema.js';
import type { JobQueue } from '../../../shared/queue/job-queue.js';
import { RedisJobQueue } from '../../../shared/queue/redis/redis-job-queue.js';
import { upstashClient } from '../../../shared/queue/redis/upstash-client.js';
import { createApp } from '../../app.js';
import type { App } from '../../app-env.js';
import { Reconciler } from '../../reconciler.js';

export interface Env {
  DATABASE_URL: string;
  UPSTASH_REDIS_REST_URL: string;
  UPSTASH_REDIS_REST_TOKEN: string;
  CONDUCTOR_ADMIN_TOKEN?: string;
  CONDUCTOR_REDIS_PREFIX?: string;
}

/** What the app sees as its bindings: the Worker's, plus this request's database. */
interface RequestBindings extends Env {
  requestDatabase: Database;
}

// One app, queue and reconciler per isolate: the token cache and the sweep's place outlive a request. The Upstash
// client is plain fetch calls, so unlike a database pool it may serve every request. Bindings arrive with the first
// request or cron event, hence built then.
let app: App | undefined;
let queue: JobQueue | undefined;
let reconciler: Reconciler | undefined;

function queueFor(env: Env): JobQueue {
  for (const name of ['DATABASE_URL', 'UPSTASH_REDIS_REST_URL', 'UPSTASH_REDIS_REST_TOKEN'] as const) {
    if (!env[name]) throw new Error(`${name} is not set: add it as a secret (wrangler secret put ${name})`);
  }
  queue ??= new RedisJobQueue(
    upstashClient(env.UPSTASH_REDIS_REST_URL, env.UPSTASH_REDIS_REST_TOKEN),
    env.CONDUCTOR_REDIS_PREFIX ?? 'conductor:',
  );
  return queue;
}

/** Runs `work` over a database pool of its own: Workers do not let I/O objects outlive the request that made them. */
async function withDatabase<T>(env: Env, ctx: ExecutionContext, work: (db: Database) => Promise<T>): Promise<T> {
  const pool = new Pool({ connectionString: env.DATABASE_URL });
  try {
    return await work(drizzle(pool, { schema }) as unknown as Database);
  } finally {
    ctx.waitUntil(pool.end());
  }
}

export default {
  async fetch(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
    const jobQueue = queueFor(env);
    app ??= createApp({
      db: (c) => (c.env as RequestBindings).requestDatabase,
      queue: jobQueue,
      adminToken: env.CONDUCTOR_ADMIN_TOKEN,
    });
    const current = app;
    return withDatabase(env, ctx, (requestDatabase) =>
      Promise.resolve(current.fetch(request, { ...env, requestDatabase } satisfies RequestBindings, ctx)),
    );
  },

  async scheduled(_controller: unknown, env: Env, ctx: ExecutionContext): Promise<void> {
    // The reconciler keeps its sweep's place between runs of this isolate; the database is per run.
    const current = (reconciler ??= new Reconciler(queueFor(env)));
    await withDatabase(env, ctx, (db) => current.run(db));
  },
};
