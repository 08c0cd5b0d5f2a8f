/**
 * The API: one Hono app built from its dependencies. It imports nothing from Node and reads no environment, so the
 * Workers host and the Node host serve the very same app over their own database drivers. Build it once per process
 * (or Worker isolate): its token cache and prepared statements live as long as it does.
 */
import { DEFAULT_PRIORITY, type PrioritySettings } from '../shared/config/priority-settings.js';
import { OpenAPIHono } from '@hono/zod-openapi';
import { bodyLimit } from 'hono/body-limit';
import { requestId } from 'hono/request-id';
import { jsonLinesLogger } from '../shared/log/json-lines-logger.js';
import type { Logger } from '../shared/log/logger.js';
import { requestLog } from './http/request-log.js';
import { clusterIdSource } from '../shared/db/cluster-id.js';
import { DEFAULT_NODE_LEASE_SECONDS, type NodeLeaseMs } from '../shared/config/node-lease-setting.js';
import type { LogStore } from '../shared/logs/log-store.js';
import type { JobQueue } from '../shared/queue/job-queue.js';
import { PartitionCapacities } from './nodes/partition-capacity.js';
import { PartitionCatalog } from './partitions/partition-catalog.js';
import { OPENAPI_INFO } from './api-info.js';
import type { App, AppEnv, DatabaseSource, Services } from './app-env.js';
import { Authenticator } from './auth/authenticator.js';
import { DEFAULT_MAX_FOLLOWS, FOLLOW_LEASE_MS, type FollowLeases } from './follows/follow-leases.js';
import { PostgresFollowLeases } from './follows/postgres-follow-leases.js';
import { PayloadTooLarge } from './http/errors.js';
import { onError, onNotFound, validationHook } from './http/problem.js';
import { bodyScreen } from './http/body-screen.js';
import { apiCors } from './http/cors.js';
import { registerConsolePages } from './console/console-routes.js';
import { registerConsoleSession } from './console/session-routes.js';
import type { StaticAssets } from './console/static-assets.js';
import { registerOriginalCancel } from './routes/original/cancel.js';
import { registerOriginalDashboard } from './routes/original/dashboard.js';
import { registerHealth } from './routes/original/health.js';
import { registerOriginalQuery } from './routes/original/query.js';
import { registerRoot } from './routes/original/root.js';
import { registerProbes } from './routes/probes.js';
import { registerOriginalSubmit } from './routes/original/submit.js';
import { registerDeleteAccount } from './accounts/routes/delete.js';
import { registerGetAccount } from './accounts/routes/get.js';
import { registerListAccounts } from './accounts/routes/list.js';
import { registerPutAccount } from './accounts/routes/put.js';
import { registerCancelJob } from './routes/v1/jobs/cancel.js';
import { registerHoldJob } from './routes/v1/jobs/hold.js';
import { registerUpdateJob } from './routes/v1/jobs/update.js';
import { registerClaim } from './routes/v1/nodes/claim.js';
import { registerConfirm } from './routes/v1/nodes/confirm.js';
import { registerNodeEvents } from './routes/v1/nodes/events.js';
import { registerHeartbeat } from './routes/v1/nodes/heartbeat.js';
import { registerListNodes } from './routes/v1/nodes/list.js';
import { registerSetNodeState } from './routes/v1/nodes/set-state.js';
import { registerJobEvents } from './routes/v1/jobs/events.js';
import { registerJobLogs } from './routes/v1/jobs/logs.js';
import { registerGetJob } from './routes/v1/jobs/get.js';
import { registerWhyJob } from './routes/v1/jobs/why.js';
import { registerJobHistory } from './routes/v1/jobs/history.js';
import { registerListJobs } from './routes/v1/jobs/list.js';
import { registerSubmitJob } from './routes/v1/jobs/submit.js';
import { registerDeletePartition } from './routes/v1/partitions/delete.js';
import { registerGetPartition } from './routes/v1/partitions/get.js';
import { registerListPartitions } from './routes/v1/partitions/list.js';
import { registerPutPartition } from './routes/v1/partitions/put.js';
import { registerStats } from './routes/v1/stats.js';
import { registerStatsHistory } from './routes/v1/stats-history.js';
import { registerDashboard } from './routes/v1/dashboard.js';
import { registerCreateToken } from './routes/v1/tokens/create.js';
import { registerListTokens } from './routes/v1/tokens/list.js';
import { registerRevokeToken } from './routes/v1/tokens/revoke.js';
import { registerUpdateToken } from './routes/v1/tokens/update.js';

import { NO_FAULTS, type FaultInjector } from './fault-points.js';
import { DEFAULT_EVENT_HUB_OPTIONS, EventHub } from './events/event-hub.js';
import { registerEventStream } from './routes/v1/events/stream.js';
import { registerCreateWebhook } from './webhooks/routes/create.js';
import { registerDeleteWebhook } from './webhooks/routes/delete.js';
import { registerWebhookDeliveries } from './webhooks/routes/deliveries.js';
import { registerGetWebhook } from './webhooks/routes/get.js';
import { registerListWebhooks } from './webhooks/routes/list.js';
import { registerRedeliver } from './webhooks/routes/redeliver.js';
import { registerUpdateWebhook } from './webhooks/routes/update.js';
import { WebhookAllowList, type ResolveHost } from './webhooks/webhook-targets.js';
import { registerMetrics, requestMetrics, type MetricsOptions } from './metrics/metrics-route.js';

export interface AppDependencies {
  db: DatabaseSource;
  /** Where submitted jobs' refs go, and where nodes claim them from. */
  queue: JobQueue;
  /** Accepted as an admin token without a database row (CONDUCTOR_ADMIN_TOKEN). */
  adminToken?: string | undefined;
  /** How long a looked-up token is trusted before it is looked up again. */
  tokenCacheMs?: number;
  now?: () => Date;
  /**
   * Told the partition of each job submitted. A node daemon in the same process (the embedded default) claims at
   * once instead of at its next poll; nodes elsewhere hear of work from Redis, or from their own polling.
   */
  onWork?: (partition: string) => void;
  /** Where nodes store job output (the same store they were given): the logs endpoints and `job_log` read it. */
  logs?: LogStore | undefined;
  /** The database's cluster id, when the host has read it already; otherwise read from the database when needed. */
  clusterId?: string;
  /** How often a follower of a running job's output looks for more; 250 ms by default. */
  logPollMs?: number;
  /** Abort it when the process stops serving: followers are cut off, to follow again from another process. */
  closing?: AbortSignal;
  /**
   * Where open follow streams are counted: Redis on the Redis hosts. By default the database's follow_leases table,
   * which needs a database for the whole process (a Worker passes its Redis ones).
   */
  followLeases?: FollowLeases;
  /** CONDUCTOR_MAX_FOLLOWS: open follow streams per principal, across the deployment; 16 by default. */
  maxFollows?: number;
  /** How long a follow lease lasts unrenewed; 60 s by default (tests shorten it). */
  followLeaseMs?: number;
  /** CONDUCTOR_NODE_LEASE_SECONDS in ms, granted by each heartbeat; null: never expires. 300 s by default. */
  nodeLeaseMs?: NodeLeaseMs;
  /**
   * The web console's and the API reference's built files (dist/ui), served under /ui and /docs; without them those
   * paths answer 503 console_not_built.
   */
  assets?: StaticAssets | undefined;
  /** Tests only: called at each fault point (fault-points.ts). No host passes one. */
  faults?: FaultInjector;
  /**
   * GET /v1/events on a host whose requests share one database: called once with the process's event reader's wake-up,
   * for the host to call on each NOTIFY conductor_events (migration 0028). Without it the reader polls.
   */
  wakeEvents?: (wake: () => void) => void;
  /** Event streams end after this long, with a `retry:` hint (Workers: within its limits); by default they last. */
  eventStreamMs?: number;
  /** How often the event reader (or, without one, each stream) looks for events; 1 s by default (tests shorten it). */
  eventPollMs?: number;
  /** How often an event stream sends a heartbeat and checks its token; 15 s by default (tests shorten it). */
  eventHeartbeatMs?: number;
  /** CONDUCTOR_PRIORITY_*: the weights and ages of the computed priority; Slurm-like defaults (priority-settings.ts). */
  priority?: PrioritySettings;
  /**
   * `/metrics`: who may scrape it, whether on this port, and the host's process-wide metrics (none on the Worker).
   * By default served here to admin tokens, with the database's gauges only.
   */
  metrics?: MetricsOptions;
  /** CONDUCTOR_WEBHOOK_ALLOW (api/webhooks/webhook-targets.ts); none by default: public https targets only. */
  webhookAllow?: WebhookAllowList;
  /** The host's name resolution, to check a webhook's host by its addresses; none on Workers. */
  resolveHost?: ResolveHost;
  /** A delivery was queued again: the host's sender may send it now rather than at its next pass. */
  wakeWebhooks?: () => void;
  /**
   * The host's logger (shared/log/): a line per request at info, warnings and faults. By default JSON lines through
   * console.log at warn and above, so that an app built without one (tests) says what went wrong and no more.
   */
  logger?: Logger;
}

// A 1 MiB script escaped into JSON, plus an environment: generous, and still far from exhausting a Worker.
export const MAX_BODY_BYTES = 4 * 1024 * 1024;
export const DEFAULT_TOKEN_CACHE_MS = 5000;
export const DEFAULT_LOG_POLL_MS = 250;
// Below the 30-60 s idle timeouts of common proxies and load balancers.
const EVENT_HEARTBEAT_MS = 15_000;
const EVENT_RETRY_MS = 1000;
const EVENT_MAX_BUFFERED = 10_000;

export function createApp(deps: AppDependencies): App {
  const now = deps.now ?? (() => new Date());
  const eventHub =
    typeof deps.db === 'function'
      ? undefined
      : new EventHub(deps.db, {
          ...DEFAULT_EVENT_HUB_OPTIONS,
          pollMs: deps.eventPollMs ?? DEFAULT_EVENT_HUB_OPTIONS.pollMs,
        });
  if (eventHub) deps.wakeEvents?.(() => eventHub.notify());
  const followLeases =
    deps.followLeases ?? (typeof deps.db === 'function' ? undefined : new PostgresFollowLeases(deps.db));
  if (!followLeases) throw new Error('createApp: a per-request database needs followLeases (Redis) given');
  const services: Services = {
    now,
    queue: deps.queue,
    onWork: deps.onWork ?? (() => {}),
    capacities: new PartitionCapacities(() => now().getTime()),
    partitions: new PartitionCatalog(() => now().getTime()),
    logs: deps.logs,
    clusterId: clusterIdSource(deps.clusterId),
    logPollMs: deps.logPollMs ?? DEFAULT_LOG_POLL_MS,
    // No signal made here: a Worker builds its app inside its first request, and workerd binds an AbortSignal made
    // there to that request, so that later ones could not read it (every follow answered 500).
    closing: deps.closing,
    follows: {
      leases: followLeases,
      max: deps.maxFollows ?? DEFAULT_MAX_FOLLOWS,
      leaseMs: deps.followLeaseMs ?? FOLLOW_LEASE_MS,
    },
    faults: deps.faults ?? NO_FAULTS,
    events: {
      hub: eventHub,
      pollMs: deps.eventPollMs ?? DEFAULT_EVENT_HUB_OPTIONS.pollMs,
      heartbeatMs: deps.eventHeartbeatMs ?? EVENT_HEARTBEAT_MS,
      endAfterMs: deps.eventStreamMs,
      retryMs: EVENT_RETRY_MS,
      maxBuffered: EVENT_MAX_BUFFERED,
    },
    priority: deps.priority ?? DEFAULT_PRIORITY,
    metrics: deps.metrics?.registry,
    webhooks: {
      allow: deps.webhookAllow ?? WebhookAllowList.NONE,
      resolve: deps.resolveHost,
      wake: deps.wakeWebhooks ?? (() => {}),
    },
    logger: deps.logger ?? jsonLinesLogger('warn'),
    nodeLeaseMs: deps.nodeLeaseMs === undefined ? DEFAULT_NODE_LEASE_SECONDS * 1000 : deps.nodeLeaseMs,
    authenticator: new Authenticator({
      adminToken: deps.adminToken,
      cacheMs: deps.tokenCacheMs ?? DEFAULT_TOKEN_CACHE_MS,
      now: () => now().getTime(),
    }),
  };

  const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
  app.use(requestId());
  app.use(requestLog(services.logger));
  // First after the id: a request refused by any later middleware is counted too.
  if (deps.metrics?.registry) app.use(requestMetrics(deps.metrics.registry));
  // Before everything else, so that a preflight is answered without a token and errors carry the CORS headers too.
  app.use(apiCors);
  app.use(
    bodyLimit({
      maxSize: MAX_BODY_BYTES,
      onError: () => {
        throw new PayloadTooLarge(MAX_BODY_BYTES);
      },
    }),
  );
  app.use(bodyScreen);
  const { db } = deps;
  app.use(async (c, next) => {
    c.set('services', services);
    c.set('db', typeof db === 'function' ? db(c) : db);
    await next();
  });
  app.onError(onError);
  app.notFound(onNotFound);

  for (const register of [
    registerSubmitJob,
    registerListJobs,
    // Before /v1/jobs/{id}, which would take history.csv for an id.
    registerJobHistory,
    registerGetJob,
    registerJobEvents,
    registerJobLogs,
    registerWhyJob,
    registerCancelJob,
    registerHoldJob,
    registerUpdateJob,
    registerStats,
    registerEventStream,
    registerStatsHistory,
    registerDashboard,
    registerListNodes,
    registerHeartbeat,
    registerSetNodeState,
    registerClaim,
    registerConfirm,
    registerNodeEvents,
    registerListPartitions,
    registerGetPartition,
    registerPutPartition,
    registerDeletePartition,
    registerCreateToken,
    registerListTokens,
    registerRevokeToken,
    registerUpdateToken,
    registerListAccounts,
    registerGetAccount,
    registerPutAccount,
    registerDeleteAccount,
    registerCreateWebhook,
    registerListWebhooks,
    registerGetWebhook,
    registerUpdateWebhook,
    registerDeleteWebhook,
    registerWebhookDeliveries,
    registerRedeliver,
    registerOriginalSubmit,
    registerOriginalQuery,
    registerOriginalCancel,
    registerOriginalDashboard,
    registerHealth,
    registerProbes,
    registerRoot,
    registerConsoleSession,
  ]) {
    register(app);
  }

  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', {
    type: 'http',
    scheme: 'bearer',
    description: 'An admin, user or node token.',
  });
  app.doc31('/openapi.json', { openapi: '3.1.0', info: OPENAPI_INFO });
  registerMetrics(app, deps.metrics ?? { onApi: true });
  registerConsolePages(app, deps.assets);
  return app;
}
