/**
 * `GET /metrics` in the Prometheus text format: the database's gauges (database-gauges.ts) and, on the Node host, its
 * process-wide counters and histograms (api-metrics.ts). Who may scrape: the bearer CONDUCTOR_METRICS_TOKEN when one is
 * set, else an admin token; or, where CONDUCTOR_METRICS_PORT is set, only that port's listener (createMetricsApp),
 * which asks for CONDUCTOR_METRICS_TOKEN when one is set and nothing else (the port is the protection), while the API's
 * port answers 404 for it.
 */
import { createRoute, z } from '@hono/zod-openapi';
import { Hono, type Context, type MiddlewareHandler } from 'hono';
import { routePath } from 'hono/route';
import type { Database } from '../../shared/db/database.js';
import type { JobQueue } from '../../shared/queue/job-queue.js';
import type { App, AppEnv } from '../app-env.js';
import { requirePrincipal } from '../auth/require-principal.js';
import { Unauthenticated } from '../http/errors.js';
import { onError, problemResponses } from '../http/problem.js';
import type { ApiMetrics } from './api-metrics.js';
import { readDatabaseGauges } from './database-gauges.js';
import { EXPOSITION_CONTENT_TYPE, renderFamilies } from './metric-family.js';

export interface MetricsOptions {
  /** CONDUCTOR_METRICS_TOKEN: a bearer token that may scrape and do nothing else. */
  token?: string | undefined;
  /** Serve /metrics on the API's own port; false where CONDUCTOR_METRICS_PORT gives it a listener of its own. */
  onApi: boolean;
  /** The host's process-wide metrics; none on the Worker, which serves the database's gauges only. */
  registry?: ApiMetrics | undefined;
}

/** Counts every answered request by its route pattern: a raw path would make a series per job id. */
export function requestMetrics(metrics: ApiMetrics): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const started = performance.now();
    try {
      await next();
    } finally {
      metrics.request(routeOf(c), c.req.method, c.res.status, (performance.now() - started) / 1000);
    }
  };
}

const route = createRoute({
  method: 'get',
  path: '/metrics',
  tags: ['Metrics'],
  summary: 'Prometheus metrics',
  description:
    "The Prometheus text format (0.0.4). Every host: the gauges read from the database at each scrape (jobs by state and partition, queue depth, nodes by state, each partition's CPUs and memory, the oldest queued wait, the last reconciler sample). The Node host adds its process-wide counters and histograms (requests by route pattern and status, their latency, claims, confirms, waits, reconciler runs). Needs the bearer CONDUCTOR_METRICS_TOKEN or an admin token; where CONDUCTOR_METRICS_PORT is set, it is served on that port only, and answers 404 here.",
  security: [{ bearer: [] }],
  responses: {
    200: { description: 'The metrics', content: { 'text/plain': { schema: z.string() } } },
    ...problemResponses(401, 403, 404, 503),
  },
});

export function registerMetrics(app: App, options: MetricsOptions): void {
  if (!options.onApi) return;
  const admin = requirePrincipal('admin');
  app.use('/metrics', async (c, next) => (bearerIs(c, options.token) ? next() : admin(c, next)));
  app.openapi(route, async (c) => {
    const text = await metricsText(c.var.db, c.var.services.queue, c.var.services.now().getTime(), options.registry);
    return c.text(text, 200, HEADERS);
  });
}

/** The listener of CONDUCTOR_METRICS_PORT: /metrics and nothing else. */
export function createMetricsApp(options: {
  db: Database;
  queue: JobQueue;
  token?: string | undefined;
  registry?: ApiMetrics | undefined;
}): Hono {
  const app = new Hono();
  app.onError(onError);
  app.get('/metrics', async (c) => {
    if (options.token !== undefined && !bearerIs(c, options.token)) {
      throw new Unauthenticated('/metrics needs the bearer token CONDUCTOR_METRICS_TOKEN');
    }
    return c.body(await metricsText(options.db, options.queue, Date.now(), options.registry), 200, HEADERS);
  });
  return app;
}

const HEADERS = { 'Content-Type': EXPOSITION_CONTENT_TYPE, 'Cache-Control': 'no-store' };

/** The database's gauges, after the host's own metrics where it has them. */
async function metricsText(db: Database, queue: JobQueue, now: number, registry: ApiMetrics | undefined) {
  const gauges = await readDatabaseGauges(db, queue, now);
  return registry ? registry.render(gauges) : renderFamilies(gauges);
}

/** The pattern of the route that answered; `(unmatched)` for a 404 that no route took. */
export function routeOf(c: Context): string {
  const path = routePath(c, -1);
  // Only middleware (app.use: `*`, `/*`) matched: no route answered.
  return path === '' || path === '*' || path === '/*' ? '(unmatched)' : path;
}

function bearerIs(c: Context, token: string | undefined): boolean {
  if (token === undefined) return false;
  const header = c.req.header('Authorization') ?? '';
  return constantTimeEqual(header, `Bearer ${token}`);
}

// The comparison's time must not tell how much of a guess was right.
function constantTimeEqual(a: string, b: string): boolean {
  let differs = a.length === b.length ? 0 : 1;
  for (let i = 0; i < b.length; i++) differs |= (a.charCodeAt(i % (a.length || 1)) || 0) ^ b.charCodeAt(i);
  return differs === 0;
}
