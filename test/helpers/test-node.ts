/**
 * The node daemon against a real API: the app served over HTTP from the test process (so a test can take it away
 * and bring it back on the same port), and daemons as real processes (`npm run node`), so they can be killed -9.
 */
import { serve, type ServerType } from '@hono/node-server';
import { afterAll, beforeAll } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundled } from './bundled.js';
import { startChildServer, type ChildIdentity, type ChildServer } from './child-server.js';
import { prepareNodeCgroups, removeNodeCgroups } from '../../worker-node/containment/node-cgroups.js';
import { RunContainment } from '../../worker-node/containment/run-containment.js';
import { cgroupNodeName } from '../../worker-node/node-daemon.js';
import { FileLogStore } from '../../shared/logs/file-log-store.js';
import type { LogStore } from '../../shared/logs/log-store.js';
import type { JobQueue } from '../../shared/queue/job-queue.js';
import { readClusterId } from '../../shared/db/cluster-id.js';
import { backends, type Backend } from './test-databases.js';
import { createTestApp, type TestApp } from './test-app.js';
import { waitFor } from './wait-for.js';

const ROOT = new URL('../..', import.meta.url).pathname;

export interface TestApi {
  t: TestApp;
  url: string;
  /** The log store the API reads, and the daemons write to unless a test gives them another. */
  logs: LogStore;
  logDir: string;
  /** The cluster id of the API's database: its jobs' output is stored under it. */
  clusterId: string;
  /** Takes the API away: connections are refused until `resume`. */
  pause(): Promise<void>;
  resume(): Promise<void>;
  close(): Promise<void>;
}

/**
 * An API served over HTTP. `backend`: its database (by default the server when it is there, as CI requires, else the
 * embedded one); `logDir`: a log directory the test made (and removes), shared with another API.
 */
export async function startTestApi(
  options: {
    queue?: JobQueue;
    logs?: LogStore;
    backend?: Backend;
    logDir?: string;
    nodeLeaseMs?: number | null;
  } = {},
): Promise<TestApi> {
  const backend = options.backend ??
    (await backends()).find((candidate) => candidate.name === 'postgres' && !candidate.skip) ?? {
      name: 'pglite' as const,
      skip: undefined,
    };
  const logDir = options.logDir ?? mkdtempSync(join(tmpdir(), 'conductor-logs-'));
  const logs = options.logs ?? new FileLogStore(logDir);
  // Followers look often: a test waits on what they see.
  const t = await createTestApp(backend, {
    ...(options.queue ? { queue: options.queue } : {}),
    ...(options.nodeLeaseMs !== undefined ? { nodeLeaseMs: options.nodeLeaseMs } : {}),
    logs,
    logPollMs: 50,
  });
  const clusterId = await readClusterId(t.database.db);
  let server = await listen(t, 0);
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const close = () => new Promise<void>((done) => server.close(() => done()));
  return {
    t,
    url: `http://127.0.0.1:${port}`,
    logs,
    logDir,
    clusterId,
    async pause() {
      server.closeAllConnections?.();
      await close();
    },
    async resume() {
      server = await listen(t, port);
    },
    async close() {
      if (server.listening) {
        server.closeAllConnections?.();
        await close();
      }
      await t.close();
      if (options.logDir === undefined) rmSync(logDir, { recursive: true, force: true });
    },
  };
}

function listen(t: TestApp, port: number): Promise<ServerType & { closeAllConnections?(): void; listening: boolean }> {
  return new Promise((done) => {
    const server = serve({ fetch: t.app.fetch, hostname: '127.0.0.1', port }, () => done(server as never));
  });
}

export interface TestNodes {
  /** A directory of the test's own, removed at the end. */
  dir(): string;
  /** The node's own directory (journal, runs), the same across its restarts. */
  nodeDir(name: string): string;
  /**
   * A daemon; with `identity`, one running as that user rather than as the test's (or with more descriptors); with
   * `program`, that built daemon run from that directory rather than the run's bundle from the checkout.
   */
  start(
    name: string,
    env?: Record<string, string>,
    identity?: ChildIdentity,
    program?: { script: string; cwd: string },
  ): Promise<ChildServer>;
  cleanup(): Promise<void>;
}

/** What `apiWithNode` starts for a describe block; read inside its tests (set once its beforeAll ran). */
export interface ApiWithNode {
  api: TestApi;
  nodes: TestNodes;
  /** The jobs' working directory: `work()`'s, else a directory of the test's own. */
  work: string;
}

/**
 * For a describe block: an API and one daemon `node` (with `env`) started before its tests and stopped after them,
 * and a working directory for its jobs (made by `work` when given: an owner's directory).
 */
export function apiWithNode(node: string, env: Record<string, string> = {}, work?: () => string): ApiWithNode {
  const started = {} as ApiWithNode;
  beforeAll(async () => {
    started.api = await startTestApi();
    started.nodes = testNodes(started.api);
    started.work = work ? work() : started.nodes.dir();
    await started.nodes.start(node, env);
  });
  afterAll(async () => {
    await started.nodes?.cleanup();
    await started.api?.close();
  });
  return started;
}

/** What daemons are started against: an API's URL, its log directory ('' for none), and how to make node tokens. */
export type DaemonApi = Pick<TestApi, 'url' | 'logDir'> & { t: Pick<TestApp, 'token'> };

/** Daemons sharing one core-lock directory, as daemons on one machine do. */
export function testNodes(api: DaemonApi): TestNodes {
  const dirs: string[] = [];
  const daemons: ChildServer[] = [];
  const dir = () => {
    const made = mkdtempSync(join(tmpdir(), 'conductor-node-'));
    dirs.push(made);
    return made;
  };
  const coreLockDir = join(dir(), 'cores');
  const nodeDirs = new Map<string, string>();
  const nodeDir = (name: string) => {
    // A restarted node finds its journal where it left it.
    if (!nodeDirs.has(name)) nodeDirs.set(name, dir());
    return nodeDirs.get(name)!;
  };
  return {
    dir,
    nodeDir,
    async start(name, env = {}, identity, program) {
      const daemon = await startChildServer(
        `node daemon ${name}`,
        program?.script ?? bundled('nodeBundle', 'worker-node/main.ts'),
        program?.cwd ?? ROOT,
        {
          PATH: process.env.PATH,
          HOME: process.env.HOME,
          CONDUCTOR_API_URL: api.url,
          CONDUCTOR_NODE_TOKEN: await api.t.token('node', name),
          CONDUCTOR_NODE_NAME: name,
          CONDUCTOR_NODE_PARTITIONS: 'default',
          CONDUCTOR_NODE_MEMORY_MB: '4096',
          CONDUCTOR_NODE_DIR: nodeDir(name),
          CONDUCTOR_CORE_LOCK_DIR: coreLockDir,
          CONDUCTOR_KILL_GRACE_SECONDS: '0.5',
          CONDUCTOR_CLAIM_IDLE_MAX_SECONDS: '0.3',
          CONDUCTOR_LOG_DIR: api.logDir,
          CONDUCTOR_LOG_FLUSH_MS: '100',
          // The suites' jobs are an admin's naming no user: as root (in CI) they run as root, as the embedded default's.
          CONDUCTOR_ALLOW_ROOT_JOBS: 'true',
          ...env,
        },
        /claiming (?:from|through) .* at (http:\/\/\S+)/,
        [],
        identity,
      );
      daemons.push(daemon);
      return daemon;
    },
    async cleanup() {
      await Promise.all(daemons.splice(0).map((daemon) => daemon.stop()));
      // A daemon killed, or stopped with runs left, leaves its cgroups (made only as root), and perhaps processes in
      // them: they go here.
      for (const [name, made] of nodeDirs) await removeLeftCgroups(name, made);
      for (const made of dirs.splice(0)) rmSync(made, { recursive: true, force: true });
    },
  };
}

export interface JobView {
  id: string;
  state: string;
  attempt: number;
  node: string | null;
  cpu_ids: number[] | null;
  exit_code: { status: number | null; signal: number | null } | null;
  error_msg: string | null;
  standard_output: string;
  standard_error: string;
  open_mode: string;
}

export async function getJob(t: TestApp, id: string): Promise<JobView> {
  return (await (await t.call('GET', `/v1/jobs/${id}`)).json()) as JobView;
}

/** A job's event, as GET /v1/jobs/{id}/events answers it. */
export interface JobEvent {
  attempt: number;
  from_state: string | null;
  to_state: string;
  at: string;
  actor: string;
  reason: string | null;
}

export async function getJobEvents(t: TestApp, id: string): Promise<JobEvent[]> {
  return ((await (await t.call('GET', `/v1/jobs/${id}/events`)).json()) as { events: JobEvent[] }).events;
}

/** Waits until the node reported the start of attempt `attempt` of job `id` (its process): answers that event. */
export function startReported(t: TestApp, id: string, attempt: number): Promise<JobEvent> {
  return waitFor(`job ${id}'s attempt ${attempt} started`, async () =>
    (await getJobEvents(t, id)).find((e) => e.attempt === attempt && e.reason?.startsWith('process ')),
  );
}

export { waitFor };

export async function waitForState(t: TestApp, id: string, states: string[], timeoutMs?: number): Promise<JobView> {
  return waitFor(
    `job ${id} to be ${states.join(' or ')}`,
    async () => {
      const job = await getJob(t, id);
      return states.includes(job.state) ? job : undefined;
    },
    timeoutMs,
  );
}

export const ENDED = ['COMPLETED', 'FAILED', 'CANCELLED', 'TIMEOUT', 'OUT_OF_MEMORY', 'NODE_FAIL'];

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A job that starts a tree of processes (children and grandchildren) and writes each of the 5 pids to
 * `<work>/<job id>/pids`; with `ignoreTerm`, all of them ignore SIGTERM (`trap '' TERM` is inherited).
 */
export const processTree = (ignoreTerm = false) =>
  [
    ...(ignoreTerm ? ["trap '' TERM"] : []),
    'mkdir -p $CONDUCTOR_JOB_ID && cd $CONDUCTOR_JOB_ID',
    "bash -c 'sleep 300 & echo $! >> pids; sleep 300 & echo $! >> pids; wait' &",
    'echo $! >> pids',
    'sleep 300 & echo $! >> pids',
    'echo $$ >> pids',
    'wait',
  ].join('\n');

/** The pids a processTree job wrote, once all 5 are there. */
export const treePids = (work: string, id: string) =>
  waitFor(`job ${id}'s process tree`, () => {
    try {
      const pids = readFileSync(join(work, id, 'pids'), 'utf8')
        .trim()
        .split('\n')
        .map(Number);
      return pids.length === 5 ? pids : undefined;
    } catch {
      return undefined;
    }
  });

/**
 * Kills and removes what a daemon of node `name` with node directory `dir` left in cgroups (made only as root): a
 * daemon killed, or stopped with runs left, leaves its node cgroups and perhaps processes in them.
 */
export async function removeLeftCgroups(name: string, dir: string): Promise<void> {
  if (process.getuid?.() !== 0) return;
  const cgroups = prepareNodeCgroups(cgroupNodeName(name, dir), true);
  for (const run of RunContainment.all(cgroups)) {
    await run.killAll();
    await run.remove();
  }
  removeNodeCgroups(cgroups);
}
