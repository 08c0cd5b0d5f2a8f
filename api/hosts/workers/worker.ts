/**
 * The Workers host: the same app as the Node host, over Neon's serverless driver (Postgres over a WebSocket). It uses
 * Web-standard APIs only. The Cron-trigger reconciler and the Upstash and R2 bindings come with later issues.
 */
import { Pool } from '@neondatabase/serverless';
import { drizzle } from 'drizzle-orm/neon-serverless';
import type { ExecutionContext } from 'hono';
import type { Database } from '../../../shared/db/database.js';
import { schema } from '../../../shared/db/schema.js';
import { createApp } from '../../app.js';
import type { App } from '../../app-env.js';

export interface Env {
  DATABASE_URL: string;
  CONDUCTOR_ADMIN_TOKEN?: string;
}

/** What the app sees as its bindings: the Worker's, plus this request's database. */
interface RequestBindings extends Env {
  requestDatabase: Database;
}

// One app per isolate, so that its token cache outlives a request; bindings only arrive with the first request.
let app: App | undefined;

export default {
  async fetch(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
    if (!env.DATABASE_URL)
      throw new Error('DATABASE_URL is not set: add it as a secret (wrangler secret put DATABASE_URL)');
    app ??= createApp({
      db: (c) => (c.env as RequestBindings).requestDatabase,
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
