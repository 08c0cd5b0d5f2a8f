/**
 * /metrics after a known workload, on both hosts, with a real node daemon: N jobs that complete, one that fails and
 * one cancelled while it runs, then the API's and the daemon's exposition read with a parser. The Node host counts
 * requests (by route pattern), confirms, waits and reconciler runs, and the daemon its launches, ends, kills, output and
 * journal writes; the Worker serves the database's gauges alone, in the same names. Who may scrape is checked on each.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startNodeHostDeployment } from './fixtures/node-host-deployment.js';
import { startWorkerDeployment } from './fixtures/worker-deployment.js';
import { startWorkerNode, type WorkerNode } from './fixtures/worker-node.js';
import type { Deployment } from './fixtures/deployment.js';
import { bundled } from './helpers/bundled.js';
import { freePort, startChildServer, type ChildServer } from './helpers/child-server.js';
import { Exposition } from './helpers/prometheus-text.js';
import { backends } from './helpers/test-databases.js';
import { removeLeftCgroups } from './helpers/test-node.js';
import { redisUnreachable } from './helpers/test-redis.js';
import { waitFor, waitUntil } from './helpers/wait-for.js';

const postgres = (await backends()).find((backend) => backend.name === 'postgres');
const away = postgres!.skip ?? (await redisUnreachable());

const ROOT = new URL('..', import.meta.url).pathname;
const METRICS_TOKEN = 'test-metrics-token-0123456789abcdef0123';
const COMPLETED = 3;
// The gauges read from the database, which both hosts export under these names.
const DATABASE_GAUGES = [
  'conductor_jobs',
  'conductor_queue_depth',
  'conductor_jobs_pending_oldest_wait_seconds',
  'conductor_nodes',
  'conductor_node_up',
  'conductor_partition_cpus',
  'conductor_partition_cpus_allocated',
  'conductor_partition_memory_bytes',
  'conductor_partition_memory_allocated_bytes',
  'conductor_reconciler_last_sample_timestamp_seconds',
];

interface Workload {
  ids: string[];
  cancelled: string;
}

/** COMPLETED jobs that succeed, one that fails, and one cancelled while it runs; answers once all have ended. */
async function runWorkload(d: Deployment, node: WorkerNode): Promise<Workload> {
  const submit = async (name: string, script: string) =>
    (
      await d.json<{ id: string }>(201, 'POST', '/v1/jobs', {
        body: { job: { name, partition: 'default', current_working_directory: node.work }, script },
      })
    ).id;
  const ids: string[] = [];
  for (let index = 0; index < COMPLETED; index += 1) ids.push(await submit(`ok-${index}`, `echo "job ${index}"`));
  ids.push(await submit('fails', 'echo failing; exit 3'));
  const cancelled = await submit('cancelled', 'sleep 300');
  ids.push(cancelled);
  await waitUntil('the long job running', async () => (await jobState(d, cancelled)) === 'RUNNING', 60_000);
  await d.json(200, 'POST', `/v1/jobs/${cancelled}/cancel`);
  await waitUntil(
    'every job ended',
    async () => {
      const states = await Promise.all(ids.map((id) => jobState(d, id)));
      return states.every((state) => ['COMPLETED', 'FAILED', 'CANCELLED'].includes(state));
    },
    60_000,
  );
  return { ids, cancelled };
}

async function jobState(d: Deployment, id: string): Promise<string> {
  const result = (await d.database.db.execute(sql`SELECT state FROM jobs WHERE id = ${Number(id)}`)) as unknown as {
    rows: { state: string }[];
  };
  return result.rows[0]!.state;
}

async function scrape(url: string, token: string | null): Promise<Response> {
  return fetch(url, { headers: token === null ? {} : { Authorization: `Bearer ${token}` } });
}

async function exposition(url: string, token: string | null): Promise<Exposition> {
  const response = await scrape(url, token);
  const text = await response.text();
  if (response.status !== 200) throw new Error(`${url}: ${response.status} ${text.slice(0, 300)}`);
  expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  expect(promtoolComplaints(text)).toEqual([]);
  return new Exposition(text);
}

/**
 * What `promtool check metrics` (Prometheus's own linter: naming, units, suffixes) says of our metrics; nothing where
 * promtool is not installed. prom-client's default nodejs_* metrics have lint findings of their own, not ours.
 */
function promtoolComplaints(text: string): string[] {
  const lint = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  if (lint.error) return [];
  const said = `${lint.stdout}${lint.stderr}`.split('\n').filter(Boolean);
  if (lint.status !== 0 && lint.status !== 3) return said;
  return said.filter((line) => !line.startsWith('nodejs_') && !line.startsWith('process_'));
}

function expectDatabaseGauges(metrics: Exposition, node: string): void {
  for (const name of DATABASE_GAUGES.filter((name) => name !== 'conductor_reconciler_last_sample_timestamp_seconds')) {
    expect(metrics.family(name).type, name).toBe('gauge');
  }
  expect(metrics.value('conductor_jobs', { state: 'COMPLETED', partition: 'default' })).toBe(COMPLETED);
  expect(metrics.value('conductor_jobs', { state: 'FAILED', partition: 'default' })).toBe(1);
  expect(metrics.value('conductor_jobs', { state: 'CANCELLED', partition: 'default' })).toBe(1);
  expect(metrics.value('conductor_jobs', { state: 'RUNNING' })).toBe(0);
  expect(metrics.value('conductor_node_up', { node })).toBe(1);
  expect(metrics.value('conductor_nodes', { state: 'UP' })).toBe(1);
  expect(metrics.value('conductor_partition_cpus', { partition: 'default' })).toBe(2);
  expect(metrics.value('conductor_partition_memory_bytes', { partition: 'default' })).toBe(4096 * 1024 * 1024);
  expect(metrics.value('conductor_partition_cpus_allocated', { partition: 'default' })).toBe(0);
}

describe.skipIf(away)('/metrics on the Node host, with a daemon serving its own', () => {
  let d: Deployment;
  let node: WorkerNode;
  let nodeMetricsUrl: string;
  let workload: Workload;
  beforeAll(async () => {
    d = await startNodeHostDeployment('metrics_node_host', {
      CONDUCTOR_METRICS_TOKEN: METRICS_TOKEN,
      CONDUCTOR_RECONCILE_SECONDS: '1',
    });
    const port = await freePort('127.0.0.1');
    nodeMetricsUrl = `http://127.0.0.1:${port}/metrics`;
    node = await startWorkerNode(d, 'metrics1', 2, {
      CONDUCTOR_METRICS_PORT: String(port),
      CONDUCTOR_METRICS_TOKEN: METRICS_TOKEN,
    });
    workload = await runWorkload(d, node);
  }, 180_000);
  afterAll(async () => {
    await node?.stop();
    await d?.stop();
  });

  it('counts requests by route pattern, confirms, waits and reconciler runs, beside the database gauges', async () => {
    const url = `${d.url}/metrics`;
    await d.json(200, 'GET', `/v1/jobs/${workload.ids[0]}`);
    expect((await d.call('GET', `/no/such/path/${workload.ids[0]}`)).status).toBe(404);
    await waitUntil(
      'a reconciler run counted',
      async () => (await exposition(url, METRICS_TOKEN)).value('conductor_reconciler_runs_total', { result: 'ok' }) > 0,
    );
    const metrics = await exposition(url, METRICS_TOKEN);
    const jobs = workload.ids.length;
    expect(metrics.value('conductor_http_requests_total', { route: '/v1/jobs', method: 'POST', status: '201' })).toBe(
      jobs,
    );
    expect(metrics.value('conductor_http_request_duration_seconds', { route: '/v1/jobs', method: 'POST' })).toBe(jobs);
    expect(metrics.value('conductor_http_requests_total', { route: '/v1/jobs/:id/cancel', method: 'POST' })).toBe(1);
    // Patterns only: no label holds a job's id.
    const routes = metrics.samples('conductor_http_requests_total').map((sample) => sample.labels.route!);
    expect(routes.filter((route) => route.split('/').some((part) => workload.ids.includes(part)))).toEqual([]);
    expect(
      metrics.value('conductor_http_requests_total', { route: '/v1/jobs/:id', method: 'GET', status: '200' }),
    ).toBe(1);
    expect(metrics.value('conductor_http_requests_total', { route: '(unmatched)', status: '404' })).toBe(1);
    expect(metrics.value('conductor_confirmed_jobs_total', { partition: 'default' })).toBe(jobs);
    const wait = metrics.samples('conductor_job_wait_seconds', { partition: 'default' })[0]!;
    expect(wait.count).toBe(jobs);
    expect(wait.buckets!['+Inf']).toBe(jobs);
    expect(metrics.family('conductor_reconciler_run_duration_seconds').type).toBe('histogram');
    expect(metrics.value('conductor_reconciler_last_success_timestamp_seconds')).toBeGreaterThan(0);
    expect(metrics.value('process_start_time_seconds')).toBeGreaterThan(0);
    expectDatabaseGauges(metrics, 'metrics1');
  });

  it("the daemon's: launches, ends by state, kills by reason, output shipped, journal writes, allocation", async () => {
    const jobs = workload.ids.length;
    // Ends are counted once the API acknowledged them, which may be just after the jobs' rows say so.
    const metrics = await waitFor('every end counted', async () => {
      const seen = await exposition(nodeMetricsUrl, METRICS_TOKEN);
      const ends = seen.samples('conductor_node_job_ends_total').reduce((sum, sample) => sum + sample.value!, 0);
      return ends === jobs && seen.value('conductor_node_outbox_events') === 0 ? seen : undefined;
    });
    expect(metrics.value('conductor_node_launches_total')).toBe(jobs);
    expect(metrics.value('conductor_node_job_ends_total', { state: 'COMPLETED' })).toBe(COMPLETED);
    expect(metrics.value('conductor_node_job_ends_total', { state: 'FAILED' })).toBe(1);
    expect(metrics.value('conductor_node_job_ends_total', { state: 'CANCELLED' })).toBe(1);
    expect(metrics.samples('conductor_node_kills_total')).toEqual([{ labels: { reason: 'CANCELLED' }, value: 1 }]);
    // "job 0\n" … "job 2\n" and "failing\n" at least (a retried chunk counts again).
    expect(metrics.value('conductor_node_log_shipped_bytes_total')).toBeGreaterThanOrEqual(COMPLETED * 6 + 8);
    expect(metrics.value('conductor_node_log_unshipped_bytes')).toBe(0);
    expect(metrics.value('conductor_node_log_store_errors_total')).toBe(0);
    expect(metrics.value('conductor_node_journal_write_duration_seconds')).toBeGreaterThanOrEqual(jobs);
    expect(metrics.value('conductor_node_running_jobs')).toBe(0);
    expect(metrics.value('conductor_node_cpus')).toBe(2);
    expect(metrics.value('conductor_node_cpus_allocated')).toBe(0);
    expect(metrics.value('conductor_node_memory_bytes')).toBe(4096 * 1024 * 1024);
    expect(metrics.value('conductor_node_memory_allocated_bytes')).toBe(0);
    expect(metrics.value('process_start_time_seconds')).toBeGreaterThan(0);
  });

  it('is refused without the metrics token or an admin token, on the API and on the daemon', async () => {
    const url = `${d.url}/metrics`;
    expect((await scrape(url, null)).status).toBe(401);
    expect((await scrape(url, 'not-the-token-0123456789abcdef0123456789')).status).toBe(401);
    const nodeToken = await d.json<{ token: string }>(201, 'POST', '/v1/tokens', {
      body: { name: 'metrics-node-token', kind: 'node', node: 'metrics-other', partitions: ['default'] },
    });
    expect((await scrape(url, nodeToken.token)).status).toBe(403);
    // An admin may read it too: the metrics token is one that can do nothing else.
    await exposition(url, 'test-admin-token-0123456789abcdef0123456789');
    expect((await d.call('GET', '/v1/jobs', { token: METRICS_TOKEN })).status).toBe(401);
    expect((await scrape(nodeMetricsUrl, null)).status).toBe(401);
    expect((await scrape(nodeMetricsUrl, 'not-the-token-0123456789abcdef0123456789')).status).toBe(401);
  });
});

describe.skipIf(away)('/metrics on the Worker: the database gauges alone', () => {
  let d: Deployment;
  let node: WorkerNode;
  beforeAll(async () => {
    d = await startWorkerDeployment('metrics_worker', { vars: { CONDUCTOR_METRICS_TOKEN: METRICS_TOKEN } });
    node = await startWorkerNode(d, 'metrics2');
    await runWorkload(d, node);
  }, 180_000);
  afterAll(async () => {
    await node?.stop();
    await d?.stop();
  });

  it('serves the same gauge names as the Node host, and no process-wide counters', async () => {
    const metrics = await exposition(`${d.url}/metrics`, METRICS_TOKEN);
    expectDatabaseGauges(metrics, 'metrics2');
    const names = [...metrics.families.keys()];
    expect(names.filter((name) => !DATABASE_GAUGES.includes(name))).toEqual([]);
    expect(names.every((name) => metrics.family(name).type === 'gauge')).toBe(true);
  });

  it('is refused without the metrics token or an admin token', async () => {
    expect((await scrape(`${d.url}/metrics`, null)).status).toBe(401);
    await exposition(`${d.url}/metrics`, 'test-admin-token-0123456789abcdef0123456789');
  });
});

describe('/metrics of the embedded default on a port of its own (CONDUCTOR_METRICS_PORT)', () => {
  let host: ChildServer;
  let dataDir: string;
  let metricsUrl: string;
  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'conductor-metrics-host-'));
    // The run's migrated PGlite database: a new one's initdb takes seconds.
    cpSync(inject('pgliteDataDir'), join(dataDir, 'pglite'), { recursive: true });
    const port = await freePort('127.0.0.1');
    metricsUrl = `http://127.0.0.1:${port}/metrics`;
    const env = { ...process.env };
    for (const name of ['DATABASE_URL', 'REDIS_URL', 'PORT', 'HOST', 'CONDUCTOR_ADMIN_TOKEN']) delete env[name];
    host = await startChildServer('embedded host', bundled('hostBundle', 'api/hosts/node/main.ts'), ROOT, {
      ...env,
      CONDUCTOR_DATA_DIR: dataDir,
      PORT: String(await freePort('127.0.0.1')),
      // The local node's core records in the data directory: embedded hosts of other tests keep off its cores.
      CONDUCTOR_CORE_LOCK_DIR: join(dataDir, 'cores'),
      CONDUCTOR_METRICS_PORT: String(port),
      CONDUCTOR_METRICS_TOKEN: METRICS_TOKEN,
    });
  }, 120_000);
  afterAll(async () => {
    await host?.stop();
    await removeLeftCgroups(hostname().split('.')[0]!.slice(0, 64), join(dataDir, 'node'));
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('is served there only, to the metrics token, with the local node’s metrics in the same scrape', async () => {
    expect(host.stdout().join('\n')).toContain(`metrics on ${metricsUrl}`);
    const admin = readFileSync(join(dataDir, 'admin-token'), 'utf8').trim();
    expect((await scrape(`${host.url}/metrics`, admin)).status).toBe(404);
    expect((await scrape(metricsUrl, null)).status).toBe(401);
    expect((await scrape(metricsUrl, admin)).status).toBe(401);
    const metrics = await exposition(metricsUrl, METRICS_TOKEN);
    expect(metrics.value('conductor_node_cpus')).toBeGreaterThan(0);
    expect(metrics.value('conductor_nodes', { state: 'UP' })).toBe(1);
    expect(metrics.samples('conductor_http_requests_total', { route: '/v1/nodes/:node/heartbeat' }).length).toBe(1);
    // One process, one set of process metrics: the local node leaves them to its host.
    expect(metrics.family('process_start_time_seconds').samples).toHaveLength(1);
  });
});
