/**
 * The Node host's process-wide metrics (api/metrics/api-metrics.ts) on prom-client: requests by route and status,
 * their latency, claims and confirms, how long started jobs waited, and the reconciler's runs; plus the process's own
 * (prom-client's default metrics: CPU, memory, event loop lag, process_start_time_seconds). Only the Node host
 * imports this file: the Worker's bundle never holds prom-client. Other registries (the embedded node daemon's) are
 * rendered after it, into the same scrape.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { ApiMetrics } from '../../metrics/api-metrics.js';
import { renderFamilies, type MetricFamily } from '../../metrics/metric-family.js';

// From a fast read to a slow follow's first answer; longer ones (followers) all fall in +Inf.
const REQUEST_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
// Jobs wait from under a second (an idle cluster) to days (a full one, a low priority).
const WAIT_BUCKETS = [1, 5, 15, 30, 60, 300, 900, 1800, 3600, 7200, 21_600, 86_400, 259_200];
const RECONCILE_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export class PromApiMetrics implements ApiMetrics {
  readonly registry = new Registry();
  readonly #others: { metrics(): Promise<string> }[] = [];
  readonly #requests = new Counter({
    name: 'conductor_http_requests_total',
    help: 'HTTP requests answered, by route pattern, method and status.',
    labelNames: ['route', 'method', 'status'] as const,
    registers: [this.registry],
  });
  readonly #latency = new Histogram({
    name: 'conductor_http_request_duration_seconds',
    help: 'Time to answer an HTTP request (to its headers, for a streamed answer), by route pattern and method.',
    labelNames: ['route', 'method'] as const,
    buckets: REQUEST_BUCKETS,
    registers: [this.registry],
  });
  readonly #claimed = new Counter({
    name: 'conductor_claimed_refs_total',
    help: 'Refs handed to nodes by claims through the API (the Postgres queue; Redis claims bypass the API).',
    registers: [this.registry],
  });
  readonly #confirmed = new Counter({
    name: 'conductor_confirmed_jobs_total',
    help: 'Jobs started by confirms (PENDING to RUNNING), by partition.',
    labelNames: ['partition'] as const,
    registers: [this.registry],
  });
  readonly #wait = new Histogram({
    name: 'conductor_job_wait_seconds',
    help: 'How long each job started by a confirm waited, from submit to start, by partition.',
    labelNames: ['partition'] as const,
    buckets: WAIT_BUCKETS,
    registers: [this.registry],
  });
  readonly #runs = new Counter({
    name: 'conductor_reconciler_runs_total',
    help: "This process's reconciler runs, by result (ok, error).",
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
  readonly #runTime = new Histogram({
    name: 'conductor_reconciler_run_duration_seconds',
    help: "How long this process's reconciler runs took.",
    buckets: RECONCILE_BUCKETS,
    registers: [this.registry],
  });
  readonly #lastRun = new Gauge({
    name: 'conductor_reconciler_last_success_timestamp_seconds',
    help: "When this process's reconciler last finished a run without error.",
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  request(route: string, method: string, status: number, seconds: number): void {
    this.#requests.inc({ route, method, status: String(status) });
    this.#latency.observe({ route, method }, seconds);
  }

  claimed(refs: number): void {
    this.#claimed.inc(refs);
  }

  confirmed(jobs: { partition: string; waitSeconds: number }[]): void {
    for (const { partition, waitSeconds } of jobs) {
      this.#confirmed.inc({ partition });
      this.#wait.observe({ partition }, waitSeconds);
    }
  }

  /** One reconciler run of this process ended: `ok` unless it threw; `seconds` it took. */
  reconciled(ok: boolean, seconds: number): void {
    this.#runs.inc({ result: ok ? 'ok' : 'error' });
    this.#runTime.observe(seconds);
    if (ok) this.#lastRun.setToCurrentTime();
  }

  /** Another registry of this process (the embedded node daemon's) scraped with this one; its names must differ. */
  include(registry: { metrics(): Promise<string> }): void {
    this.#others.push(registry);
  }

  async render(gauges: MetricFamily[]): Promise<string> {
    const texts = await Promise.all([this.registry.metrics(), ...this.#others.map((other) => other.metrics())]);
    return [...texts, renderFamilies(gauges)].join('\n');
  }
}
