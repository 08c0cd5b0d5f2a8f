/**
 * The Workers host: the same app as the Node host, over Neon's serverless driver (Postgres over a WebSocket). It uses
 * Web-standard APIs only. The Cron-trigger reconciler and the Upstash and R2 bindings come with later issues.
 */
import { Pool } from '@neondatabase/serverless';
import { drizzle } from 'drizzle-orm/neon-serverless';
import type { Database } from '../../../shared/db/database.js';
import { schema } from '../../../shared/db/schema.js';
import { createApp } from '../../app.js';

export interface Env {
  DATABASE_URL: string;
  CONDUCTOR_ADMIN_TOKEN?: string;
}

/** The part of the Workers ExecutionContext this host uses. */
export interface ExecutionContext {
  waitUntil(promise: Promise<unknown>): void;
}

export default {
  async fetch(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
    if (!env.DATABASE_URL) throw new Error('DATABASE_URL is not set: add it as a secret (wrangler secret put DATABASE_URL)');
    // I/O objects cannot outlive the request that made them in Workers, so the pool (and the app over it) is per request.
    const pool = new Pool({ connectionString: env.DATABASE_URL });
    try {
      const db = drizzle(pool, { schema }) as unknown as Database;
      return await createApp({ db, adminToken: env.CONDUCTOR_ADMIN_TOKEN }).fetch(request);
    } finally {
      ctx.waitUntil(pool.end());
    }
  },
};
