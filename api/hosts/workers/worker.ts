/**
 * The Workers host: the same app as the Node host, over Neon's serverless driver (Postgres over a WebSocket), with
 * its queue on Upstash Redis over REST. Web-standard APIs only. The Cron trigger runs the reconciler.
 */
import { neonConfig, Pool } from '@neondatabase/serverless';
import { drizzle } from 'drizzle-orm/neon-serverless';
import type { ExecutionContext } from 'hono';
import { z } from 'zod';
import { checkLogStoreSettings, logStoreSettings } from '../../../shared/config/log-store-settings.js';
import { readConfig } from '../../../shared/config/read-config.js';
import { RetentionSchema, retentionOf } from '../../../shared/config/retention-settings.js';
import type { Database } from '../../../shared/db/database.js';
import type { LogStore } from '../../../shared/logs/log-store.js';
import { R2LogStore, type R2BucketBinding } from '../../../shared/logs/r2-log-store.js';
import { s3LogStoreFrom } from '../../../shared/logs/s3-log-store.js';
import { schema } from '../../../shared/db/schema.js';
import type { JobQueue } from '../../../shared/queue/job-queue.js';
import { RedisJobQueue } from '../../../shared/queue/redis/redis-job-queue.js';
import { upstashClient } from '../../../shared/queue/redis/upstash-client.js';
import { createApp } from '../../app.js';
import type { App } from '../../app-env.js';
import { RedisFollowLeases } from '../../follows/redis-follow-leases.js';
import { Reconciler } from '../../reconciler.js';
import { parseNodeLease } from '../../../shared/config/node-lease-setting.js';

export interface Env {
  DATABASE_URL: string;
  UPSTASH_REDIS_REST_URL: string;
  UPSTASH_REDIS_REST_TOKEN: string;
  CONDUCTOR_ADMIN_TOKEN?: string;
  CONDUCTOR_REDIS_PREFIX?: string;
  /** Open follow streams per token across the deployment (default 16). */
  CONDUCTOR_MAX_FOLLOWS?: string;
  /** How long a heartbeat keeps a node the owner of its runs, in seconds, or never; 300 by default. */
  CONDUCTOR_NODE_LEASE_SECONDS?: string;
  /** Days a finished job's row and its stored output are kept (shared/config/retention-settings.ts). */
  CONDUCTOR_JOB_RETENTION_DAYS?: string;
  CONDUCTOR_OUTPUT_RETENTION_DAYS?: string;
  /** The R2 bucket the nodes ship job output to (through R2's S3 endpoint); or the CONDUCTOR_S3_* variables. */
  LOGS?: R2BucketBinding;
  CONDUCTOR_LOG_PREFIX?: string;
  CONDUCTOR_S3_ENDPOINT?: string;
  CONDUCTOR_S3_BUCKET?: string;
  CONDUCTOR_S3_REGION?: string;
  CONDUCTOR_S3_ACCESS_KEY_ID?: string;
  CONDUCTOR_S3_SECRET_ACCESS_KEY?: string;
  /**
   * A WebSocket→TCP proxy (`host:port/path`) for a Postgres that is not Neon's: local development and the tests.
   * Plain `ws://`, with no TLS inside; the proxy is told the server as `?address=<host>:<port>`.
   */
  CONDUCTOR_NEON_WS_PROXY?: string;
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
// A Worker is never told to stop, so no follow is ever closed by one. Not a real AbortSignal: workerd refuses a request
// the use of a signal another request made (the app, with the app's default signal, is made in the first request),
// and refuses making one outside any request. The follows only read `aborted` and add and remove a listener.
const NEVER_CLOSING = { aborted: false, addEventListener() {}, removeEventListener() {} } as unknown as AbortSignal;

/** The bound R2 bucket, else an S3-compatible store from the variables, else none (output is then not served). */
function logStoreFor(env: Env): LogStore | undefined {
  const settings = readConfig(WorkerLogSettings, env as unknown as Record<string, string | undefined>);
  if (env.LOGS) return new R2LogStore(env.LOGS, settings.CONDUCTOR_LOG_PREFIX);
  return s3LogStoreFrom(settings);
}

// A Worker has no directory to share with the nodes.
const WorkerLogSettings = z
  .object(logStoreSettings)
  .omit({ CONDUCTOR_LOG_DIR: true })
  .superRefine((settings, ctx) => checkLogStoreSettings({ ...settings, CONDUCTOR_LOG_DIR: undefined }, ctx));

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

/** A database pool of the request's own: Workers do not let I/O objects outlive the request that made them. */
function openDatabase(env: Env): { db: Database; end(): Promise<void> } {
  if (env.CONDUCTOR_NEON_WS_PROXY) useWsProxy(env.CONDUCTOR_NEON_WS_PROXY);
  const pool = new Pool({ connectionString: env.DATABASE_URL });
  return { db: drizzle(pool, { schema }) as unknown as Database, end: () => pool.end() };
}

/**
 * Neon's driver through a plain WebSocket proxy: no TLS (the proxy is local), and no pipelined password exchange,
 * which only works with the cleartext password auth Neon uses (a local server may trust, or ask for SCRAM).
 */
function useWsProxy(proxy: string): void {
  neonConfig.wsProxy = (host, port) => `${proxy}?address=${host}:${port}`;
  neonConfig.useSecureWebSocket = false;
  neonConfig.pipelineTLS = false;
  neonConfig.pipelineConnect = false;
}

export default {
  async fetch(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
    const jobQueue = queueFor(env);
    app ??= createApp({
      db: (c) => (c.env as RequestBindings).requestDatabase,
      queue: jobQueue,
      adminToken: env.CONDUCTOR_ADMIN_TOKEN,
      logs: logStoreFor(env),
      // Counted in Upstash with the queue, so that every isolate sees every follow, and a dead isolate's lapse.
      followLeases: new RedisFollowLeases(
        upstashClient(env.UPSTASH_REDIS_REST_URL, env.UPSTASH_REDIS_REST_TOKEN),
        env.CONDUCTOR_REDIS_PREFIX ?? 'conductor:',
      ),
      maxFollows: maxFollows(env.CONDUCTOR_MAX_FOLLOWS),
      nodeLeaseMs: parseNodeLease(env.CONDUCTOR_NODE_LEASE_SECONDS),
      closing: NEVER_CLOSING,
    });
    const current = app;
    const database = openDatabase(env);
    let response: Response;
    try {
      response = await current.fetch(request, { ...env, requestDatabase: database.db } satisfies RequestBindings, ctx);
    } catch (error) {
      ctx.waitUntil(database.end());
      throw error;
    }
    if (!response.body) {
      ctx.waitUntil(database.end());
      return response;
    }
    // A streamed answer (a followed job's output) reads the database until its body ends: the pool lives that long.
    const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
    ctx.waitUntil(
      response.body
        .pipeTo(writable)
        .catch(() => {})
        .finally(() => database.end()),
    );
    return new Response(readable, response);
  },

  async scheduled(_controller: unknown, env: Env, ctx: ExecutionContext): Promise<void> {
    // The reconciler keeps its sweep's place between runs of this isolate; the database is per run.
    const current = (reconciler ??= new Reconciler(queueFor(env), {
      retention: retentionOf(readConfig(RetentionSchema, env as unknown as Record<string, string | undefined>)),
      logs: logStoreFor(env),
    }));
    const database = openDatabase(env);
    try {
      await current.run(database.db);
    } finally {
      ctx.waitUntil(database.end());
    }
  },
};

/** CONDUCTOR_MAX_FOLLOWS, a whole number from 1; unset, 16. */
function maxFollows(text: string | undefined): number | undefined {
  if (text === undefined || text === '') return undefined;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new Error(`CONDUCTOR_MAX_FOLLOWS must be a whole number from 1`);
  return value;
}
