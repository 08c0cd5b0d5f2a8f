/**
 * The node daemon inside the API process: how the embedded default runs a newcomer's first job with no setup. It is
 * the same daemon as `npm run node`; it claims from the API's own queue, talks to the app without a socket, with a
 * node token of its own kept in the data directory, and is woken by each submit.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { NodeHostConfig } from '../../../shared/config/node-host-config.js';
import type { Database } from '../../../shared/db/database.js';
import type { LogStore } from '../../../shared/logs/log-store.js';
import type { JobQueue } from '../../../shared/queue/job-queue.js';
import { RedisJobQueue } from '../../../shared/queue/redis/redis-job-queue.js';
import { subscribeToWake } from '../../../shared/queue/redis/wake-subscriber.js';
import { fetchTransport } from '../../../worker-node/api-transport.js';
import { queueClaimSource } from '../../../worker-node/claim-source.js';
import { daemonOptions } from '../../../worker-node/daemon-options.js';
import { NodeApi } from '../../../worker-node/node-api.js';
import { NodeDaemon } from '../../../worker-node/node-daemon.js';
import { NodeMetrics } from '../../../worker-node/node-metrics.js';
import type { App } from '../../app-env.js';
import type { PromApiMetrics } from './prom-api-metrics.js';
import { ensureTokenFile } from './token-file.js';
import type { Logger } from '../../../shared/log/logger.js';

export interface LocalNode {
  /** New work in this partition: a claim now, if it is one of the node's (a claim is not free on PGlite). */
  wake(partition: string): void;
  stop(): Promise<void>;
}

export async function startLocalNode(options: {
  config: NodeHostConfig;
  db: Database;
  queue: JobQueue;
  logs: LogStore;
  app: App;
  dataDir: string;
  /** The host's metrics: the node's are scraped with them (the process's own metrics are the host's already). */
  metrics: PromApiMetrics;
  log: Logger;
}): Promise<LocalNode> {
  const { config, queue, app, dataDir, log } = options;
  const node = config.CONDUCTOR_NODE_NAME;
  mkdirSync(dataDir, { recursive: true });
  const { token } = await ensureTokenFile(options.db, join(dataDir, 'node-token'), {
    name: `local-node-${node}`,
    kind: 'node',
    nodeName: node,
    // Enrolled for what it serves, like any node (issue 12, item 5).
    partitions: config.CONDUCTOR_NODE_PARTITIONS,
  });
  const api = new NodeApi({
    url: 'http://local-node',
    token,
    node,
    transport: fetchTransport((request) => app.fetch(request)),
  });
  const nodeMetrics = new NodeMetrics({ processMetrics: false });
  options.metrics.include(nodeMetrics.registry);
  const daemon = new NodeDaemon({
    // The embedded default's admin is the machine's: started by root, it runs their jobs naming no user as root.
    ...daemonOptions(config, join(dataDir, 'node'), options.logs, { allowRootJobs: true }),
    api,
    source: queueClaimSource(queue, { ownsQueue: false }),
    metrics: nodeMetrics,
    log,
  });
  await daemon.start();
  // Submits to other API processes reach this node through Redis; the API's own submits call wake() directly.
  const wake =
    config.REDIS_URL && queue instanceof RedisJobQueue
      ? await subscribeToWake(config.REDIS_URL, queue.wakeChannel, config.CONDUCTOR_NODE_PARTITIONS, () =>
          daemon.wake(),
        )
      : undefined;
  const ours = new Set(config.CONDUCTOR_NODE_PARTITIONS);
  return {
    wake: (partition) => {
      if (ours.has(partition)) daemon.wake();
    },
    async stop() {
      await wake?.close();
      await daemon.stop();
    },
  };
}
