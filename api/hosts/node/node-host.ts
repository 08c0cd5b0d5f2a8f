/**
 * The Node host: the app on @hono/node-server over pg (DATABASE_URL) or the embedded PGlite in the data directory.
 * It applies the migrations before it listens, so a fresh database is ready on the first request.
 */
import { serve, type ServerType } from '@hono/node-server';
import { setMaxListeners } from 'node:events';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { NodeHostConfig } from '../../../shared/config/node-host-config.js';
import { priorityOf } from '../../../shared/config/priority-settings.js';
import { retentionOf } from '../../../shared/config/retention-settings.js';
import { hasLegacyLogKeys, readClusterId } from '../../../shared/db/cluster-id.js';
import type { Database } from '../../../shared/db/database.js';
import { claimLegacyKeys } from '../../../shared/logs/legacy-keys-owner.js';
import { LogStoreUnavailable, type LogStore } from '../../../shared/logs/log-store.js';
import { loadMigrations } from '../../../shared/db/migration-files.js';
import { openLogStore } from '../../../shared/logs/open-log-store.js';
import { migrate } from '../../../shared/db/migrator.js';
import { openNodeDatabase, type NodeDatabase } from '../../../shared/db/node-database.js';
import { ensureDirectory, PRIVATE } from '../../../worker-node/private-dirs.js';
import { createApp } from '../../app.js';
import { createMetricsApp } from '../../metrics/metrics-route.js';
import { PromApiMetrics } from './prom-api-metrics.js';
import { Reconciler } from '../../reconciler.js';
import { ReconcilerLease, reconcilerLeaseMs } from '../../reconciler-lease.js';
import { lockDataDir } from './data-dir-lock.js';
import { openNodeQueues } from './node-queue.js';
import { openFollowLeases } from './follow-leases-store.js';
import { startLocalNode, type LocalNode } from './local-node.js';
import { ensureFirstAdminToken, ensureTokenFile } from './token-file.js';
import { startReconcileLoop } from './reconcile-loop.js';
import { resolveHost } from './resolve-host.js';
import { startWebhookLoop } from './webhook-loop.js';
import { DEFAULT_SENDER } from '../../webhooks/webhook-sender.js';
import { WebhookAllowList } from '../../webhooks/webhook-targets.js';
import { diskAssets, findConsoleBuild } from './disk-assets.js';
import type { Logger } from '../../../shared/log/logger.js';
import { pinoLogger } from '../../../shared/log/pino-logger.js';

// Retries come due at their own times: a second late is soon enough. New events wake the sender at once.
const WEBHOOK_POLL_MS = 1000;

export interface RunningNodeHost {
  url: string;
  /**
   * Where the host keeps the admin token it made: always on the embedded default; on a Postgres server only at the
   * start that made the database's first admin token.
   */
  adminTokenFile?: string;
  /** Where /metrics is served when CONDUCTOR_METRICS_PORT gives it a listener of its own. */
  metricsUrl?: string;
  stop(): Promise<void>;
}

export async function startNodeHost(
  config: NodeHostConfig,
  /** By default pino on stdout, as CONDUCTOR_LOG_LEVEL and CONDUCTOR_LOG_FORMAT say. */
  log: Logger = pinoLogger({ level: config.CONDUCTOR_LOG_LEVEL, format: config.CONDUCTOR_LOG_FORMAT }),
): Promise<RunningNodeHost> {
  const embedded = config.DATABASE_URL === undefined;
  const dataDir = resolve(config.CONDUCTOR_DATA_DIR);
  // What the embedded default writes (PGlite's files, the log store, the local node's directories) is its user's
  // alone, whatever the umask it was started with (issue 12, item 8).
  if (embedded) process.umask(0o077);
  const unlock = embedded ? await lockDataDir(dataDir) : async () => {};
  let database: NodeDatabase | undefined;
  try {
    if (embedded) narrowDataDirs(dataDir, log);
    database = await openNodeDatabase({
      url: config.DATABASE_URL,
      dataDir: join(dataDir, 'pglite'),
      poolSize: config.CONDUCTOR_DB_POOL_SIZE,
    });
    const applied = await migrate(database.migrations, await loadMigrations());
    if (applied.length) log.info(`migrations applied: ${applied.join(', ')}`);
    const clusterId = await readClusterId(database.db);
    // The nodes' store: S3, CONDUCTOR_LOG_DIR, or by default the data directory (where the local node writes).
    const logs = openLogStore(config, join(dataDir, 'logs'));
    await checkLegacyKeys(database.db, logs, clusterId, log);
    // Both hosts keep the admin token they make in the data directory; a Postgres server's only when the database
    // has none and none is configured, so it is made (and said) once per database.
    const adminTokenPath = join(dataDir, 'admin-token');
    const adminToken = embedded
      ? await ensureTokenFile(database.db, adminTokenPath, { name: 'embedded-admin', kind: 'admin' })
      : config.CONDUCTOR_ADMIN_TOKEN === undefined
        ? await ensureFirstAdminToken(database.db, adminTokenPath).then((made) => made && { ...made, created: true })
        : undefined;

    const queues = openNodeQueues(config, database.db);
    const follows = openFollowLeases(config, database.db);
    const db = database.db;
    const priority = priorityOf(config);
    const reconciler = new Reconciler(queues.background, { retention: retentionOf(config), logs, priority });
    const metrics = new PromApiMetrics();
    // N processes of this host share one database: one of them reconciles at a time.
    const reconcileMs = config.CONDUCTOR_RECONCILE_SECONDS * 1000;
    const reconcilerLease = new ReconcilerLease(crypto.randomUUID(), reconcilerLeaseMs(reconcileMs));
    const reconcileLoop = startReconcileLoop(
      async () => ((await reconcilerLease.take(db)) ? reconciler.run(db) : null),
      reconcileMs,
      log,
      (ok, seconds) => metrics.reconciled(ok, seconds),
    );
    let localNode: LocalNode | undefined;
    const closing = new AbortController();
    // Every follower listens for the stop: more than the default 10 is no leak.
    setMaxListeners(0, closing.signal);
    // GET /v1/events's reader reads as soon as an event commits (migration 0028's NOTIFY), not at its next poll.
    let wakeEvents = () => {};
    const webhookAllow = WebhookAllowList.parse(config.CONDUCTOR_WEBHOOK_ALLOW);
    const webhooks = startWebhookLoop(
      db,
      { ...DEFAULT_SENDER, allow: webhookAllow, resolve: resolveHost },
      WEBHOOK_POLL_MS,
      log,
    );
    const unlisten = await database.listen('conductor_events', () => {
      wakeEvents();
      webhooks.wake();
    });
    const consoleBuild = findConsoleBuild();
    if (!consoleBuild) log.info('the web console is not built (npm run build:ui): /ui and /docs answer 503');
    const app = createApp({
      db: database.db,
      assets: consoleBuild ? diskAssets(consoleBuild) : undefined,
      queue: queues.requests,
      adminToken: config.CONDUCTOR_ADMIN_TOKEN,
      tokenCacheMs: config.CONDUCTOR_TOKEN_CACHE_SECONDS * 1000,
      onWork: (partition) => localNode?.wake(partition),
      logger: log,
      logs,
      clusterId,
      logPollMs: config.CONDUCTOR_LOG_POLL_MS,
      closing: closing.signal,
      followLeases: follows.leases,
      maxFollows: config.CONDUCTOR_MAX_FOLLOWS,
      nodeLeaseMs: config.CONDUCTOR_NODE_LEASE_SECONDS,
      priority,
      wakeEvents: (wake) => (wakeEvents = wake),
      webhookAllow,
      resolveHost,
      wakeWebhooks: () => webhooks.wake(),
      metrics: {
        registry: metrics,
        token: config.CONDUCTOR_METRICS_TOKEN,
        onApi: config.CONDUCTOR_METRICS_PORT === undefined,
      },
    });
    const server = await listen(app.fetch, config.HOST, config.PORT);
    const metricsServer =
      config.CONDUCTOR_METRICS_PORT === undefined
        ? undefined
        : await listen(
            createMetricsApp({ db, queue: queues.requests, token: config.CONDUCTOR_METRICS_TOKEN, registry: metrics })
              .fetch,
            config.CONDUCTOR_METRICS_HOST,
            config.CONDUCTOR_METRICS_PORT,
            'CONDUCTOR_METRICS_',
          ).catch(async (error: Error) => {
            await new Promise<void>((done) => server.close(() => done()));
            throw error;
          });
    /** Stops serving and everything that serves beside the app, in the order that loses nothing. */
    const stopServing = async () => {
      await new Promise<void>((done) => server.close(() => done()));
      if (metricsServer) await new Promise<void>((done) => metricsServer.close(() => done()));
      await reconcileLoop.stop();
      // Another process's reconciler may take over at once; with the database away, when the lease ends.
      await reconcilerLease.release(db).catch(() => {});
      await webhooks.stop();
      await queues.close();
      await follows.close();
      await unlisten();
    };
    const metricsUrl = metricsServer && `${urlOf(metricsServer, config.CONDUCTOR_METRICS_HOST)}/metrics`;
    const url = urlOf(server, config.HOST);
    const store = embedded ? `embedded PGlite in ${dataDir}` : 'Postgres server';
    // Before the listening line, which scripts (and tests) wait for: by then everything else is said.
    if (adminToken)
      log.info(`admin token${adminToken.created ? ' created' : ''} in ${adminToken.path} (readable by you only)`, {
        admin_token_file: adminToken.path,
      });
    if ((config.CONDUCTOR_LOCAL_NODE ?? (embedded ? 'on' : 'off')) === 'on') {
      localNode = await startLocalNode({
        config,
        db,
        queue: queues.background,
        logs,
        app,
        dataDir,
        metrics,
        log: log.child({ node: config.CONDUCTOR_NODE_NAME }),
      }).catch(async (error: Error) => {
        await stopServing();
        throw new Error(`the local node did not start: ${error.message}`);
      });
    }
    log.info(
      `SCNS-Conductor API listening on ${url} (${store}, ${config.REDIS_URL ? 'Redis' : 'Postgres'} queue, ` +
        `cluster ${clusterId})`,
      { url, cluster_id: clusterId },
    );
    if (metricsUrl) log.info(`metrics on ${metricsUrl}`, { metrics_url: metricsUrl });

    return {
      url,
      ...(adminToken ? { adminTokenFile: adminToken.path } : {}),
      ...(metricsUrl ? { metricsUrl } : {}),
      async stop() {
        // The local node first: it reports what it holds through the app.
        await localNode?.stop();
        // Followers of running jobs would hold the close up for as long as their jobs run: they are cut off.
        closing.abort();
        await stopServing();
        await database!.close();
        await unlock();
      },
    };
  } catch (error) {
    await database?.close().catch(() => {});
    await unlock();
    throw error;
  }
}

/** `prefix`: of the variables that named the host and port (HOST and PORT, or CONDUCTOR_METRICS_HOST…). */
function listen(
  fetch: (request: Request) => Response | Promise<Response>,
  hostname: string,
  port: number,
  prefix = '',
): Promise<ServerType> {
  return new Promise((done, fail) => {
    const server = serve({ fetch, hostname, port }, () => done(server));
    // The usual causes are the configuration's: name it.
    server.once('error', (error) =>
      fail(new Error(`cannot listen on ${prefix}HOST=${hostname} ${prefix}PORT=${port}: ${error.message}`)),
    );
  });
}

/** `http://host:port`, with the port as bound (0 asks for any free one). */
function urlOf(server: ServerType, host: string): string {
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/**
 * The embedded database's and log store's directories, made before the umask above (by an older version, or by hand),
 * are narrowed to the host's user alone: as root the data directory is passable (0711), and their names are known.
 * @throws UnsafeDirectory when one is a symbolic link or another user's
 */
function narrowDataDirs(dataDir: string, log: Logger): void {
  for (const name of ['pglite', 'logs']) {
    const path = join(dataDir, name);
    if (!existsSync(path)) continue;
    const changed = ensureDirectory(path, PRIVATE);
    if (changed) log.info(changed);
  }
}

/**
 * A database with jobs from before cluster ids reads their output at the store's old keys, which it claims for its
 * cluster (shared/logs/legacy-keys-owner.ts). A store that does not answer now is not checked this time.
 * @throws LegacyKeysOfAnotherCluster when another cluster with such jobs claimed them: the host refuses to start
 */
async function checkLegacyKeys(db: Database, logs: LogStore, clusterId: string, log: Logger): Promise<void> {
  if (!(await hasLegacyLogKeys(db))) return;
  try {
    await claimLegacyKeys(logs, clusterId);
  } catch (error) {
    if (!(error instanceof LogStoreUnavailable)) throw error;
    log.warn(`cannot check who owns the log store's keys from before cluster ids: ${error.message}`);
  }
}
