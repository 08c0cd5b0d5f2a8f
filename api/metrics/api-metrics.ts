/**
 * What the API counts while it serves: the process-wide counters and histograms of the Node host. The app sees only
 * this interface, so the Worker (which has no process to count in) bundles no metrics library: the Node host passes
 * its prom-client implementation (api/hosts/node/prom-api-metrics.ts), the Worker none.
 */
import type { MetricFamily } from './metric-family.js';

export interface ApiMetrics {
  /** One answered request: its route pattern (`/v1/jobs/:id`, never the raw path), method, status, duration in s. */
  request(route: string, method: string, status: number, seconds: number): void;
  /** Refs a claim through the API handed a node (the Postgres queue's claims; Redis claims never reach the API). */
  claimed(refs: number): void;
  /** Jobs a confirm started (PENDING → RUNNING), each with its partition and its wait (start − submit) in s. */
  confirmed(jobs: { partition: string; waitSeconds: number }[]): void;
  /** The exposition text of these metrics, with the database's gauges (read per scrape) among them. */
  render(gauges: MetricFamily[]): Promise<string>;
}
