/**
 * The shipped Grafana dashboard (deploy/grafana/conductor.json) and Prometheus alert rules (deploy/prometheus/alerts.yml)
 * are checked by their own tools and against the code: promtool checks and unit-tests the rules; the dashboard is
 * checked against a schema of what Grafana needs of it (panels with unique ids on the 24-column grid, no overlaps, a
 * Prometheus target each); and every metric any of their PromQL expressions (parsed with Prometheus's own grammar,
 * @prometheus-io/lezer-promql) names is one the code exports.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { parser } from '@prometheus-io/lezer-promql';
import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { PromApiMetrics } from '../api/hosts/node/prom-api-metrics.js';
import { readDatabaseGauges } from '../api/metrics/database-gauges.js';
import { PostgresJobQueue } from '../shared/queue/postgres-job-queue.js';
import { DEFAULT_QUEUE_TUNING } from '../shared/queue/job-queue.js';
import { NodeMetrics } from '../worker-node/node-metrics.js';
import { backends, createTestDatabase } from './helpers/test-databases.js';

const run = promisify(execFile);
const root = new URL('../deploy/', import.meta.url).pathname;
const RULES = `${root}prometheus/alerts.yml`;
const RULE_TESTS = `${root}prometheus/alerts.test.yml`;
const DASHBOARD = `${root}grafana/conductor.json`;

const promtool = await run('promtool', ['--version']).then(
  () => undefined,
  () => 'promtool is not installed (Debian: apt-get install prometheus); the rules are not checked by it',
);
if (promtool) console.warn(`skipping: ${promtool}`);

// Series Prometheus makes itself, not the code.
const PROMETHEUS_OWN = new Set(['up']);

/** Every metric name the code exports: both registries, and the database's gauges (read from an empty database). */
async function exportedNames(): Promise<Set<string>> {
  const names = new Set<string>();
  const api = new PromApiMetrics();
  const node = new NodeMetrics({ processMetrics: true });
  for (const metric of [...(await api.registry.getMetricsAsJSON()), ...(await node.registry.getMetricsAsJSON())]) {
    names.add(metric.name);
    // A histogram's series (conductor_job_wait_seconds_bucket …) are what queries name. prom-client's typings say a
    // numeric enum; at run time the type is the exposition's word.
    if (String(metric.type) === 'histogram')
      for (const suffix of ['_bucket', '_sum', '_count']) names.add(metric.name + suffix);
  }
  const [pglite] = await backends();
  const database = await createTestDatabase(pglite!);
  try {
    const queue = new PostgresJobQueue(database.db, DEFAULT_QUEUE_TUNING);
    for (const family of await readDatabaseGauges(database.db, queue, Date.now())) names.add(family.name);
  } finally {
    await database.destroy();
  }
  return names;
}

/** The metric names a PromQL expression selects, from its syntax tree; fails on an expression that does not parse. */
function selectedMetrics(expr: string): string[] {
  const names: string[] = [];
  const errors: string[] = [];
  parser.parse(expr).iterate({
    enter(node) {
      if (node.type.isError) errors.push(expr.slice(node.from, node.to + 10));
      if (node.name === 'Identifier' && node.node.parent?.name === 'VectorSelector') {
        names.push(expr.slice(node.from, node.to));
      }
    },
  });
  if (errors.length) throw new Error(`PromQL does not parse near ${JSON.stringify(errors[0])}: ${expr}`);
  return names;
}

// What Grafana needs of a dashboard to import it and draw each panel where it says.
const GridPos = z.object({
  x: z.number().int().min(0).max(23),
  y: z.number().int().min(0),
  w: z.number().int().min(1).max(24),
  h: z.number().int().min(1),
});
const Target = z.object({ refId: z.string().min(1), expr: z.string().min(1), legendFormat: z.string().optional() });
const Panel = z.discriminatedUnion('type', [
  z.object({ id: z.number().int(), type: z.literal('row'), title: z.string().min(1), gridPos: GridPos }),
  z.object({
    id: z.number().int(),
    type: z.enum(['timeseries', 'stat', 'bargauge', 'table', 'gauge']),
    title: z.string().min(1),
    gridPos: GridPos,
    datasource: z.object({ type: z.literal('prometheus'), uid: z.string().min(1) }),
    fieldConfig: z.object({ defaults: z.object({ unit: z.string() }) }),
    targets: z.array(Target).min(1),
  }),
]);
const Dashboard = z.object({
  uid: z.string().regex(/^[A-Za-z0-9_-]{1,40}$/),
  title: z.string().min(1),
  schemaVersion: z.number().int().min(30),
  templating: z.object({ list: z.array(z.object({ name: z.string(), type: z.string() })) }),
  panels: z.array(Panel).min(1),
});
type Dashboard = z.infer<typeof Dashboard>;

/** The dashboard's PromQL with Grafana's own variables given what Grafana gives them. */
const promql = (expr: string) => expr.replaceAll('$__rate_interval', '5m');

function dashboardExprs(dashboard: Dashboard): string[] {
  return dashboard.panels.flatMap((panel) => ('targets' in panel ? panel.targets.map((t) => promql(t.expr)) : []));
}

function ruleExprs(): string[] {
  const rules = parseYaml(readFileSync(RULES, 'utf8')) as { groups: { rules: { expr: string }[] }[] };
  return rules.groups.flatMap((group) => group.rules.map((rule) => String(rule.expr)));
}

describe('the shipped alert rules', () => {
  it.skipIf(promtool)('pass promtool check rules, and its unit tests of them', async () => {
    const checked = await run('promtool', ['check', 'rules', RULES]);
    expect(checked.stdout).toMatch(/SUCCESS: \d+ rules found/);
    const tested = await run('promtool', ['test', 'rules', RULE_TESTS]);
    expect(tested.stdout).toContain('SUCCESS');
  });

  it('alert on a node down, a daemon restarting, long waits, the reconciler and the log store', () => {
    const rules = parseYaml(readFileSync(RULES, 'utf8')) as { groups: { rules: { alert: string }[] }[] };
    const alerts = rules.groups.flatMap((group) => group.rules.map((rule) => rule.alert));
    expect(alerts).toEqual(
      expect.arrayContaining([
        'ConductorNodeDown',
        'ConductorNodeDaemonRestarting',
        'ConductorJobsPendingTooLong',
        'ConductorReconcilerNotRunning',
        'ConductorLogStoreFailing',
      ]),
    );
  });
});

describe('the shipped dashboard', () => {
  const dashboard = Dashboard.parse(JSON.parse(readFileSync(DASHBOARD, 'utf8')));

  it('is one Grafana can import: unique panel ids, panels on the grid that do not overlap, a datasource variable', () => {
    const ids = dashboard.panels.map((panel) => panel.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const panel of dashboard.panels)
      expect(panel.gridPos.x + panel.gridPos.w, panel.title).toBeLessThanOrEqual(24);
    const overlapping = dashboard.panels.flatMap((a, i) =>
      dashboard.panels.slice(i + 1).flatMap((b) => {
        const [p, q] = [a.gridPos, b.gridPos];
        const apart = p.x + p.w <= q.x || q.x + q.w <= p.x || p.y + p.h <= q.y || q.y + q.h <= p.y;
        return apart ? [] : [`${a.title} / ${b.title}`];
      }),
    );
    expect(overlapping).toEqual([]);
    expect(dashboard.templating.list).toContainEqual(
      expect.objectContaining({ name: 'datasource', type: 'datasource' }),
    );
  });

  it('shows queue depth, waits, throughput by end state, allocation per partition, node states and log lag', () => {
    const used = new Set(dashboardExprs(dashboard).flatMap(selectedMetrics));
    for (const name of [
      'conductor_queue_depth',
      'conductor_job_wait_seconds_bucket',
      'conductor_jobs_pending_oldest_wait_seconds',
      'conductor_node_job_ends_total',
      'conductor_partition_cpus_allocated',
      'conductor_partition_memory_allocated_bytes',
      'conductor_nodes',
      'conductor_node_log_unshipped_bytes',
    ]) {
      expect(used, name).toContain(name);
    }
  });
});

describe('the metrics the dashboard and the alerts use', () => {
  it('are all exported by the code', async () => {
    const exported = await exportedNames();
    const used = [...ruleExprs(), ...dashboardExprs(Dashboard.parse(JSON.parse(readFileSync(DASHBOARD, 'utf8'))))]
      .flatMap(selectedMetrics)
      .filter((name) => !PROMETHEUS_OWN.has(name));
    expect(used.length).toBeGreaterThan(20);
    expect([...new Set(used.filter((name) => !exported.has(name)))]).toEqual([]);
  });
});
