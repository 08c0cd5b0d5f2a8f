/** An app over a test database, with an admin token and helpers to call it the way clients do. */
import { createApp } from '../../api/app.js';
import { diskAssets, findConsoleBuild } from '../../api/hosts/node/disk-assets.js';
import type { LogStore } from '../../shared/logs/log-store.js';
import type { JobQueue } from '../../shared/queue/job-queue.js';
import { PostgresJobQueue } from '../../shared/queue/postgres-job-queue.js';
import type { App } from '../../api/app-env.js';
import type { FaultInjector } from '../../api/fault-points.js';
import { PROTOCOL_HEADER, PROTOCOL_VERSION } from '../../shared/protocol/protocol-version.js';
import type { FollowLeases } from '../../api/follows/follow-leases.js';
import { DEFAULT_PRIORITY, type PrioritySettings } from '../../shared/config/priority-settings.js';
import type { ResolveHost, WebhookAllowList } from '../../api/webhooks/webhook-targets.js';
import { createTestDatabase, type Backend, type TestDatabase } from './test-databases.js';

export const ADMIN_TOKEN = 'test-admin-token-0123456789abcdef0123456789';

export interface TestApp {
  app: App;
  database: TestDatabase;
  queue: JobQueue;
  call(
    method: string,
    path: string,
    options?: { token?: string | null; body?: unknown; rawBody?: string },
  ): Promise<Response>;
  /**
   * Makes a token through the API and answers its secret. `bound`: a user token's account or a node token's node;
   * `grant`: a user token's Unix user (default "tester") or a node token's partitions (default TEST_PARTITIONS, every
   * partition the suites' nodes use).
   */
  token(kind: 'admin' | 'user' | 'node', bound?: string, grant?: string | string[]): Promise<string>;
  /** Submits through /v1 as the admin and answers the job id. */
  submit(job?: Record<string, unknown>, script?: string, token?: string): Promise<string>;
  close(): Promise<void>;
}

/**
 * The partitions a test node token is granted unless its test says, and those every test app has configured (as an
 * admin configures a cluster's): every one the suites' nodes serve and their jobs are submitted to.
 */
export const TEST_PARTITIONS = ['batch', 'gpu', 'default', 'tiny', 'other', 'n4only', 'elsewhere', 'race', 'future'];

export const validJob = (overrides: Record<string, unknown> = {}) => ({
  account: 'physics',
  name: 'relax',
  partition: 'batch',
  current_working_directory: '/home/alice/run',
  standard_output: 'out-%j-%x.log',
  standard_error: 'err-%j.log',
  environment: { OMP_PLACES: 'cores' },
  ntasks_per_node: 2,
  cpus_per_task: 2,
  memory_per_node: '16G',
  time_limit: '1-02:03:04',
  exclusive: false,
  ...overrides,
});

/**
 * Every weight 0: a job's priority is what an admin typed, else 0 less its nice. The suites that order jobs by the
 * priorities they submit keep meaning what they say; the computed priority's own suite (priority.test.ts) gives its
 * weights.
 */
export const TYPED_PRIORITY: PrioritySettings = {
  ...DEFAULT_PRIORITY,
  weights: { age: 0, fairShare: 0, jobSize: 0, partition: 0 },
};

export async function createTestApp(
  backend: Backend,
  options: {
    poolSize?: number;
    tokenCacheMs?: number;
    now?: () => Date;
    queue?: JobQueue;
    logs?: LogStore;
    logPollMs?: number;
    followLeases?: FollowLeases;
    maxFollows?: number;
    followLeaseMs?: number;
    /** The lease each heartbeat grants, ms; null: never expires. */
    nodeLeaseMs?: number | null;
    /** Called at each fault point (api/fault-points.ts). */
    faults?: FaultInjector;
    /** The partitions configured through the API before the test starts; TEST_PARTITIONS by default. */
    partitions?: readonly string[];
    /** The priority's weights and ages; TYPED_PRIORITY otherwise. */
    priority?: PrioritySettings;
    /** How often the event reader looks for events (api/events/event-hub.ts). */
    eventPollMs?: number;
    /** How often an event stream sends a heartbeat and checks its token. */
    eventHeartbeatMs?: number;
    /** Where webhooks may post (CONDUCTOR_WEBHOOK_ALLOW), and how their names resolve. */
    webhookAllow?: WebhookAllowList;
    resolveHost?: ResolveHost;
  } = {},
): Promise<TestApp> {
  const database = await createTestDatabase(backend, options);
  const queue = options.queue ?? new PostgresJobQueue(database.db);
  const app = createApp({
    db: database.db,
    queue,
    adminToken: ADMIN_TOKEN,
    tokenCacheMs: options.tokenCacheMs ?? 5000,
    // The console's build, which the tests' global setup makes.
    assets: diskAssets(findConsoleBuild()!),
    ...(options.now ? { now: options.now } : {}),
    logs: options.logs,
    ...(options.logPollMs ? { logPollMs: options.logPollMs } : {}),
    ...(options.followLeases ? { followLeases: options.followLeases } : {}),
    ...(options.maxFollows ? { maxFollows: options.maxFollows } : {}),
    ...(options.followLeaseMs ? { followLeaseMs: options.followLeaseMs } : {}),
    ...(options.nodeLeaseMs !== undefined ? { nodeLeaseMs: options.nodeLeaseMs } : {}),
    ...(options.faults ? { faults: options.faults } : {}),
    priority: options.priority ?? TYPED_PRIORITY,
    ...(options.eventPollMs ? { eventPollMs: options.eventPollMs } : {}),
    ...(options.eventHeartbeatMs ? { eventHeartbeatMs: options.eventHeartbeatMs } : {}),
    ...(options.webhookAllow ? { webhookAllow: options.webhookAllow } : {}),
    ...(options.resolveHost ? { resolveHost: options.resolveHost } : {}),
  });
  const call: TestApp['call'] = async (method, path, { token = ADMIN_TOKEN, body, rawBody } = {}) => {
    // Node endpoints are called as a daemon of this protocol calls them (other routes ignore the header).
    const headers: Record<string, string> = { [PROTOCOL_HEADER]: String(PROTOCOL_VERSION) };
    if (token !== null) headers.Authorization = `Bearer ${token}`;
    if (body !== undefined || rawBody !== undefined) headers['Content-Type'] = 'application/json';
    return app.request(path, {
      method,
      headers,
      body: rawBody ?? (body === undefined ? undefined : JSON.stringify(body)),
    });
  };
  for (const partition of options.partitions ?? TEST_PARTITIONS) {
    const response = await call('PUT', `/v1/partitions/${partition}`, { body: {} });
    if (!response.ok) throw new Error(`partition ${partition}: ${response.status} ${await response.text()}`);
  }
  return {
    app,
    database,
    queue,
    call,
    async token(kind, bound, grant) {
      const response = await call('POST', '/v1/tokens', {
        body: {
          name: `${kind}-${bound ?? 'any'}`,
          kind,
          ...(kind === 'user'
            ? { account: bound, user: grant ?? 'tester' }
            : kind === 'node'
              ? { node: bound, partitions: grant ?? TEST_PARTITIONS }
              : {}),
        },
      });
      if (response.status !== 201) throw new Error(`token: ${response.status} ${await response.text()}`);
      return ((await response.json()) as { token: string }).token;
    },
    async submit(job = validJob(), script = '#!/bin/bash\necho hello', token = ADMIN_TOKEN) {
      const response = await call('POST', '/v1/jobs', { token, body: { job, script } });
      if (response.status !== 201) throw new Error(`submit: ${response.status} ${await response.text()}`);
      return ((await response.json()) as { id: string }).id;
    },
    close: () => database.destroy(),
  };
}
