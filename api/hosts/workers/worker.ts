/**
 * The Workers host: the same app as the Node host, over Neon's serverless driver (Postgres over a WebSocket), with
 * its queue on Upstash Redis over REST. Web-standard APIs only. The Cron trigger runs the reconciler.
 */
import { neonConfig, Pool } from '@neondatabase/serverless';
import { drizzle } from 'drizzle-orm/neon-serverless';
import type { ExecutionContext } from 'hono';
import { ConfigError } from '../../../shared/config/read-config.js';
import { priorityOf } from '../../../shared/config/priority-settings.js';
import { retentionOf } from '../../../shared/config/retention-settings.js';
import { readWorkerConfig, type WorkerConfig } from '../../../shared/config/worker-config.js';
import type { Database } from '../../../shared/db/database.js';
import type { JobArchive } from '../../../shared/logs/job-archive.js';
import type { LogStore } from '../../../shared/logs/log-store.js';
import { R2LogStore, type R2BucketBinding } from '../../../shared/logs/r2-log-store.js';
import { s3LogStoreFrom } from '../../../shared/logs/s3-log-store.js';
import { schema } from '../../../shared/db/schema.js';
import { RedisJobQueue } from '../../../shared/queue/redis/redis-job-queue.js';
import { upstashClient } from '../../../shared/queue/redis/upstash-client.js';
import { jsonLinesLogger } from '../../../shared/log/json-lines-logger.js';
import { createApp } from '../../app.js';
import type { App } from '../../app-env.js';
import { RedisFollowLeases } from '../../follows/redis-follow-leases.js';
import { HostMisconfigured } from '../../http/errors.js';
import { Reconciler } from '../../reconciler.js';
import { ReconcilerLease } from '../../reconciler-lease.js';
import { deliverWebhooks } from '../../webhooks/webhook-deliverer.js';
import { DEFAULT_SENDER } from '../../webhooks/webhook-sender.js';
import { WebhookAllowList } from '../../webhooks/webhook-targets.js';
import { misconfiguredApp } from './misconfigured-app.js';
import { workerAssets, type AssetsBinding } from './worker-assets.js';

export interface Env {
  DATABASE_URL: string;
  UPSTASH_REDIS_REST_URL: string;
  UPSTASH_REDIS_REST_TOKEN: string;
  CONDUCTOR_ADMIN_TOKEN?: string;
  /** A bearer token that may read /metrics (the database's gauges) and nothing else; without it, admin tokens may. */
  CONDUCTOR_METRICS_TOKEN?: string;
  CONDUCTOR_REDIS_PREFIX?: string;
  /** Open follow streams per token across the deployment (default 16). */
  CONDUCTOR_MAX_FOLLOWS?: string;
  /** How long a heartbeat keeps a node the owner of its runs, in seconds, or never; 300 by default. */
  CONDUCTOR_NODE_LEASE_SECONDS?: string;
  /** Days a finished job's row and its stored output are kept (shared/config/retention-settings.ts). */
  CONDUCTOR_JOB_RETENTION_DAYS?: string;
  CONDUCTOR_OUTPUT_RETENTION_DAYS?: string;
  /** yes: a job's record is archived to the log store before its row is deleted. */
  CONDUCTOR_ARCHIVE_JOBS?: string;
  /** The event stream's retention (days, at least 7) and bound (rows); how long one GET /v1/events stream lasts. */
  CONDUCTOR_EVENT_RETENTION_DAYS?: string;
  CONDUCTOR_EVENT_MAX_ROWS?: string;
  CONDUCTOR_EVENT_STREAM_SECONDS?: string;
  CONDUCTOR_WEBHOOK_ALLOW?: string;
  /** The console's build (wrangler.toml `[assets]`): served under /ui and /docs. */
  ASSETS?: AssetsBinding;
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

const HOW_TO_SET =
  'Set secrets (DATABASE_URL, UPSTASH_REDIS_REST_TOKEN, CONDUCTOR_ADMIN_TOKEN, CONDUCTOR_METRICS_TOKEN, CONDUCTOR_S3_SECRET_ACCESS_KEY) with `wrangler secret put NAME`, other variables under [vars] in wrangler.toml; for `wrangler dev`, in .dev.vars';

// Bindings arrive with the first request or cron event, and stay the same for the isolate's life: its configuration
// is read then, once. One app and reconciler per isolate: the token cache and the sweep's place outlive a request.
let configuration: WorkerConfig | HostMisconfigured | undefined;
let app: App | undefined;
let unconfigured: ReturnType<typeof misconfiguredApp> | undefined;
let reconciler: Reconciler | undefined;
// 32 deliveries a batch: well within a Cron run's 1,000 subrequests (Workers' limits).
const WORKER_WEBHOOK_BATCHES = 8;

/** The validated variables, or the 503 that names the missing and invalid ones. */
function configurationOf(env: Env): WorkerConfig | HostMisconfigured {
  if (configuration) return configuration;
  try {
    const config = readWorkerConfig(env as unknown as Record<string, unknown>);
    // The one rule between a variable and a binding, which the schema of the variables cannot see.
    if (config.CONDUCTOR_ARCHIVE_JOBS && !logStoreFor(env, config)) {
      const message = 'is yes, but there is no log store to archive to: bind LOGS or set the CONDUCTOR_S3_* variables';
      throw new ConfigError([{ variable: 'CONDUCTOR_ARCHIVE_JOBS', message }]);
    }
    configuration = config;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    configuration = new HostMisconfigured(error.issues, HOW_TO_SET);
  }
  return configuration;
}

/**
 * The S3-compatible store the variables name, else the bound R2 bucket, else none (output is then not served). The
 * variables win: wrangler.toml binds a bucket always, and a deployment that names another store means it.
 */
function logStoreFor(env: Env, config: WorkerConfig): (LogStore & JobArchive) | undefined {
  const s3 = s3LogStoreFrom(config);
  if (s3) return s3;
  return env.LOGS ? new R2LogStore(env.LOGS, config.CONDUCTOR_LOG_PREFIX) : undefined;
}

// The Upstash client is plain fetch calls, so unlike a database pool it may serve every request of the isolate.
const redisOf = (config: WorkerConfig) => upstashClient(config.UPSTASH_REDIS_REST_URL, config.UPSTASH_REDIS_REST_TOKEN);

function buildApp(env: Env, config: WorkerConfig): App {
  const redis = redisOf(config);
  return createApp({
    db: (c) => (c.env as RequestBindings).requestDatabase,
    queue: new RedisJobQueue(redis, config.CONDUCTOR_REDIS_PREFIX),
    adminToken: config.CONDUCTOR_ADMIN_TOKEN,
    logs: logStoreFor(env, config),
    // Counted in Upstash with the queue, so that every isolate sees every follow, and a dead isolate's lapse.
    followLeases: new RedisFollowLeases(redis, config.CONDUCTOR_REDIS_PREFIX),
    maxFollows: config.CONDUCTOR_MAX_FOLLOWS,
    nodeLeaseMs: config.CONDUCTOR_NODE_LEASE_SECONDS,
    priority: priorityOf(config),
    assets: env.ASSETS && workerAssets(env.ASSETS),
    // A Worker's response must end within the platform's limits: streams end with a retry: hint and are resumed.
    eventStreamMs: config.CONDUCTOR_EVENT_STREAM_SECONDS * 1000,
    // No registry: an isolate has no process-wide counters to offer, only the database's gauges.
    metrics: { onApi: true, token: config.CONDUCTOR_METRICS_TOKEN },
    // No resolver: a Worker's fetch reaches no private range, so literal addresses and local names are what to check.
    webhookAllow: WebhookAllowList.parse(config.CONDUCTOR_WEBHOOK_ALLOW),
    logger: jsonLinesLogger(config.CONDUCTOR_LOG_LEVEL),
  });
}

/** A database pool of the request's own: Workers do not let I/O objects outlive the request that made them. */
function openDatabase(config: WorkerConfig): { db: Database; end(): Promise<void> } {
  if (config.CONDUCTOR_NEON_WS_PROXY) useWsProxy(config.CONDUCTOR_NEON_WS_PROXY);
  const pool = new Pool({ connectionString: config.DATABASE_URL });
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
    const config = configurationOf(env);
    if (config instanceof HostMisconfigured) {
      return (unconfigured ??= misconfiguredApp(config, env.ASSETS && workerAssets(env.ASSETS))).fetch(
        request,
        env,
        ctx,
      );
    }
    const current = (app ??= buildApp(env, config));
    const database = openDatabase(config);
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
    const config = configurationOf(env);
    if (config instanceof HostMisconfigured) {
      // One line a run, and no stack: the run would fail the same way each minute until the variables are set.
      jsonLinesLogger().error('reconciler not run', { error: config.message });
      return;
    }
    // The reconciler keeps its sweep's place between runs of this isolate; the database is per run.
    const current = (reconciler ??= new Reconciler(new RedisJobQueue(redisOf(config), config.CONDUCTOR_REDIS_PREFIX), {
      retention: retentionOf(config),
      logs: logStoreFor(env, config),
      priority: priorityOf(config),
    }));
    const database = openDatabase(config);
    // Cron runs may overlap (a slow run, a retried trigger): one reconciles at a time, and gives the lease back.
    const lease = new ReconcilerLease();
    try {
      if (await lease.take(database.db)) {
        try {
          await current.run(database.db);
        } finally {
          await lease.release(database.db);
        }
      }
      // Webhooks go out from the Cron run, a bounded number per run (a Worker's CPU and subrequest limits).
      await deliverWebhooks(
        database.db,
        { ...DEFAULT_SENDER, allow: WebhookAllowList.parse(config.CONDUCTOR_WEBHOOK_ALLOW), resolve: undefined },
        WORKER_WEBHOOK_BATCHES,
      );
    } finally {
      ctx.waitUntil(database.end());
    }
  },
};
