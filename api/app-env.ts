import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { PrioritySettings } from '../shared/config/priority-settings.js';
import type { Database } from '../shared/db/database.js';
import type { Logger } from '../shared/log/logger.js';
import type { LogStore } from '../shared/logs/log-store.js';
import type { JobQueue } from '../shared/queue/job-queue.js';
import type { Authenticator } from './auth/authenticator.js';
import type { EventHub } from './events/event-hub.js';
import type { FaultInjector } from './fault-points.js';
import type { ApiMetrics } from './metrics/api-metrics.js';
import type { FollowLeases } from './follows/follow-leases.js';
import type { Principal } from './auth/principal.js';
import type { PartitionCapacities } from './nodes/partition-capacity.js';
import type { PartitionCatalog } from './partitions/partition-catalog.js';
import type { ResolveHost, WebhookAllowList } from './webhooks/webhook-targets.js';

/** What every handler can reach: built once by createApp from its dependencies. */
export interface Services {
  authenticator: Authenticator;
  queue: JobQueue;
  onWork: (partition: string) => void;
  capacities: PartitionCapacities;
  /** The configured partitions as this process last read them: submits' admission, nodes' partitions. */
  partitions: PartitionCatalog;
  /** Where nodes store job output; undefined when none is configured. */
  logs: LogStore | undefined;
  /** This deployment's cluster id (shared/db/cluster-id.ts): its output is stored under it. */
  clusterId: (db: Database) => Promise<string>;
  /** How often a follower of a running job's output looks for more. */
  logPollMs: number;
  /**
   * Aborted when the process stops serving: long answers (followers) end instead of holding the stop up. None where
   * the host never stops serving so (a Worker, which could not share one signal between requests anyway).
   */
  closing: AbortSignal | undefined;
  /** Each principal's open follow streams, counted across the deployment: at most `max`, leases of `leaseMs`. */
  follows: { leases: FollowLeases; max: number; leaseMs: number };
  now: () => Date;
  /** The lease each heartbeat grants its node, in ms; null: it never expires (CONDUCTOR_NODE_LEASE_SECONDS). */
  nodeLeaseMs: number | null;
  /** Test-only fault points (fault-points.ts); a no-op outside tests. */
  faults: FaultInjector;
  /** GET /v1/events and long-polls (api/events/): how streams follow the event stream on this host. */
  events: EventStreamSettings;
  /** The priority's weights and ages (CONDUCTOR_PRIORITY_*): a submit's first priority and a job's factors use them. */
  priority: PrioritySettings;
  /** The host's process-wide metrics (the Node host's); undefined on the Worker, which counts nothing in-process. */
  metrics: ApiMetrics | undefined;
  /** Webhooks (api/webhooks/): where they may post, how names resolve (none on Workers), and waking the sender. */
  webhooks: { allow: WebhookAllowList; resolve: ResolveHost | undefined; wake: () => void };
  /** The host's logger (shared/log/): what is logged outside a request's own logger. */
  logger: Logger;
}

export interface EventStreamSettings {
  /** The process's one reader (a host with a database for the whole process); none: each stream reads on its own. */
  hub: EventHub | undefined;
  /** How often a stream without a hub reads. */
  pollMs: number;
  heartbeatMs: number;
  /** Streams end after this long (Workers, within its limits); undefined: they last. */
  endAfterMs: number | undefined;
  retryMs: number;
  /** A client this many events behind is ended (to resume) rather than buffered for. */
  maxBuffered: number;
}

export interface AppEnv {
  Variables: {
    services: Services;
    /** The database of this request: one for the process on Node, one per request on Workers. */
    db: Database;
    principal: Principal;
    requestId: string;
    /** The host's logger with this request's id bound (request-log.ts). */
    logger: Logger;
    /** The node protocol version of a node endpoint's request. */
    protocol: number;
    /** Set on the original SCNS-Conductor's paths: their errors keep the original's shapes. */
    originalPath: true;
  };
}

export type App = OpenAPIHono<AppEnv>;

/** A database for the whole process, or one picked per request (Workers cannot share I/O objects across requests). */
export type DatabaseSource = Database | ((c: Context<AppEnv>) => Database);
