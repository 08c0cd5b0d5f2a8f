/**
 * The Workers host: the same app as the Node host, over Neon's serverless driver (Postgres over a WebSocket). It uses
 * Web-standard APIs only, and queues on Upstash Redis over REST. The Cron-trigger reconciler and R2 logs come later.
 */
import { Pool } from '@neondatabase/serverless';
import { drizzle } from 'drizzle-orm/neon-serverless';
import type { ExecutionContext } from 'hono';
import type { Database } from '../../../shared/db/database.js';
import { schema } from '../../../shared/db/schema.js';
import { RedisJobQueue } from '../../../shared/queue/redis/redis-job-queue.js';
import { upstashClient } from '../../../shared/queue/redis/upstash-client.js';
import { createApp } from '../../app.js';
import type { App } from '../../app-env.js';

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

// One app per isolate, so that its token cache outlives a request; bindings only arrive with the first request.
let app: App | undefined;

export default {
  async fetch(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
    for (const name of ['DATABASE_URL', 'UPSTASH_REDIS_REST_URL', 'UPSTASH_REDIS_REST_TOKEN'] as const) {
      if (!env[name]) throw new Error(`${name} is not set: add it as a secret (wrangler secret put ${name})`);
    }
    // The Upstash client is plain fetch calls: unlike a database pool, it may serve every request of the isolate.
    app ??= createApp({
      db: (c) => (c.env as RequestBindings).requestDatabase,
      queue: new RedisJobQueue(
        upstashClient(env.UPSTASH_REDIS_REST_URL, env.UPSTASH_REDIS_REST_TOKEN),
        env.CONDUCTOR_REDIS_PREFIX ?? 'conductor:',
      ),
      adminToken: env.CONDUCTOR_ADMIN_TOKEN,
    });
    // I/O objects cannot outlive the request that made them in Workers, so the pool is per request.
    const pool = new Pool({ connectionString: env.DATABASE_URL });
    try {
      const requestDatabase = drizzle(pool, { schema }) as unknown as Database;
      return await app.fetch(request, { ...env, requestDatabase } satisfies RequestBindings, ctx);
    } finally {
      ctx.waitUntil(pool.end());
    }
  },
};
