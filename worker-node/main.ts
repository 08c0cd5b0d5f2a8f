/**
 * `npm run node`: a node daemon from the environment. SIGINT or SIGTERM stops claiming and leaves running jobs
 * running, to be re-adopted by the next start; a second signal, or the stop taking longer than
 * CONDUCTOR_STOP_DEADLINE_SECONDS, ends it at once.
 */
import { readNodeDaemonConfig } from '../shared/config/node-daemon-config.js';
import { queueTuning } from '../shared/config/queue-settings.js';
import { ConfigError } from '../shared/config/read-config.js';
import { openLogStore } from '../shared/logs/open-log-store.js';
import { ioredisClient } from '../shared/queue/redis/ioredis-client.js';
import { RedisJobQueue } from '../shared/queue/redis/redis-job-queue.js';
import { upstashClient } from '../shared/queue/redis/upstash-client.js';
import { subscribeToWake } from '../shared/queue/redis/wake-subscriber.js';
import { apiClaimSource, queueClaimSource } from './claim-source.js';
import { daemonOptions } from './daemon-options.js';
import { NodeApi } from './node-api.js';
import { NodeDaemon } from './node-daemon.js';
import { NodeMetrics } from './node-metrics.js';
import { serveMetrics } from './metrics-server.js';
import { startLine } from './start-line.js';
import { pinoLogger } from '../shared/log/pino-logger.js';

let config;
try {
  config = readNodeDaemonConfig(process.env);
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(error.message);
  process.exit(2);
}

const log = pinoLogger({ level: config.CONDUCTOR_LOG_LEVEL, format: config.CONDUCTOR_LOG_FORMAT }).child({
  node: config.CONDUCTOR_NODE_NAME,
});
// Why the process ends goes to stderr, where a supervisor (and a person at the terminal) looks for it.
const fatal = pinoLogger({ level: 'error', format: config.CONDUCTOR_LOG_FORMAT, destination: process.stderr }).child({
  node: config.CONDUCTOR_NODE_NAME,
});
const api = new NodeApi({
  url: config.CONDUCTOR_API_URL,
  token: config.CONDUCTOR_NODE_TOKEN,
  node: config.CONDUCTOR_NODE_NAME,
});
const tuning = queueTuning(config);
const redis = config.REDIS_URL
  ? ioredisClient(config.REDIS_URL)
  : config.UPSTASH_REDIS_REST_URL
    ? upstashClient(config.UPSTASH_REDIS_REST_URL, config.UPSTASH_REDIS_REST_TOKEN!)
    : undefined;
const queue = redis && new RedisJobQueue(redis, config.CONDUCTOR_REDIS_PREFIX, tuning);
// Counted only where something can read it: a daemon without CONDUCTOR_METRICS_PORT serves no metrics.
const metrics = config.CONDUCTOR_METRICS_PORT === undefined ? undefined : new NodeMetrics({ processMetrics: true });
const daemon = new NodeDaemon({
  // The schema makes sure one is configured.
  ...daemonOptions(config, './.conductor-node', openLogStore(config)!),
  api,
  source: queue ? queueClaimSource(queue, { ownsQueue: true }) : apiClaimSource(api),
  ...(metrics && { metrics }),
  log,
});

// Before the daemon starts: a port taken stops the start before any job is claimed.
const metricsServer =
  metrics &&
  (await serveMetrics(metrics.registry, {
    host: config.CONDUCTOR_METRICS_HOST,
    port: config.CONDUCTOR_METRICS_PORT!,
    token: config.CONDUCTOR_METRICS_TOKEN,
  }).catch((error: Error) => {
    fatal.error(`start-up failed: ${error.message}`);
    process.exit(1);
  }));
try {
  await daemon.start();
} catch (error) {
  fatal.error(`start-up failed: ${(error as Error).message}`);
  process.exit(1);
}
const wake =
  config.REDIS_URL && queue
    ? await subscribeToWake(config.REDIS_URL, queue.wakeChannel, config.CONDUCTOR_NODE_PARTITIONS, () => daemon.wake())
    : undefined;
if (metricsServer) log.info(`metrics on ${metricsServer.url}/metrics`, { metrics_url: `${metricsServer.url}/metrics` });
log.info(
  startLine({
    apiUrl: config.CONDUCTOR_API_URL,
    redisUrl: config.REDIS_URL,
    upstashUrl: config.UPSTASH_REDIS_REST_URL,
  }),
);

const deadlineMs = config.CONDUCTOR_STOP_DEADLINE_SECONDS * 1000;
let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) {
      log.info(`${signal} again: exiting now; running jobs are re-adopted at the next start`);
      process.exit(1);
    }
    stopping = true;
    log.info(`${signal}: no more claims; running jobs keep running`);
    setTimeout(() => {
      fatal.error(`stop took over ${deadlineMs} ms: exiting now`);
      process.exit(1);
    }, deadlineMs).unref();
    Promise.all([daemon.stop(), wake?.close(), metricsServer?.close()]).then(
      () => process.exit(0),
      (error: Error) => {
        fatal.error(`stop failed: ${error.message}`);
        process.exit(1);
      },
    );
  });
}
