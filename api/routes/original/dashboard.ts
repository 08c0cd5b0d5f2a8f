import { createRoute, type z } from '@hono/zod-openapi';
import type { App } from '../../app-env.js';
import { accountScope } from '../../auth/principal.js';
import { requirePrincipal } from '../../auth/require-principal.js';
import { readDashboard, type DashboardData, type DashboardJob } from '../../dashboard/read-dashboard.js';
import { summarize } from '../../jobs/count-jobs.js';
import { pendingReasons, type PendingReason } from '../../jobs/pending-reasons.js';
import { problemResponses } from '../../http/problem.js';
import { clusterCapacity } from '../../nodes/node-usage.js';
import { originalTimestamp } from './original-format.js';
import { originalPath } from './original-path.js';
import { OriginalDashboard } from './schema.js';

// The original listed 20 jobs of each (api/services/dashboard_service.py); its counts were capped at 1,000 by
// mistake, these are exact.
const LIST_LIMIT = 20;

const route = createRoute({
  method: 'get',
  path: '/dashboard',
  tags: ['Original'],
  summary: 'Job counts, CPU use per node, and the running and pending jobs (original path and shape)',
  description: `Counts are exact; lists show ${LIST_LIMIT} jobs each (pending ones in queue order). A user token sees its own account's jobs; CPU figures are the whole cluster's. GET /v1/dashboard is the richer view.`,
  security: [{ bearer: [] }],
  middleware: [originalPath, requirePrincipal('admin', 'user')] as const,
  responses: {
    200: { description: 'The dashboard', content: { 'application/json': { schema: OriginalDashboard } } },
    ...problemResponses(401, 403),
  },
});

export function registerOriginalDashboard(app: App): void {
  app.openapi(route, async (c) => {
    const data = await readDashboard(c.var.db, accountScope(c.var.principal), LIST_LIMIT);
    return c.json(dashboardView(data, await pendingReasons(c.var.db, data.pending)), 200);
  });
}

type Answer = z.infer<typeof OriginalDashboard>;

function dashboardView(data: DashboardData, reasons: Map<number, PendingReason>): Answer {
  const { total, by_state: byState } = summarize(data.counts);
  const cpus = clusterCapacity(data.nodes, (usage) => ({ total: usage.node.cpus, allocated: usage.cpusAllocated }));
  return {
    job_stats: {
      total,
      running: byState.RUNNING,
      pending: byState.PENDING,
      completed: byState.COMPLETED,
      failed: byState.FAILED + byState.TIMEOUT + byState.OUT_OF_MEMORY + byState.NODE_FAIL,
      cancelled: byState.CANCELLED,
      by_state: byState,
    },
    resource_stats: {
      total_cpus: cpus.total,
      allocated_cpus: cpus.allocated,
      available_cpus: cpus.idle,
      utilization_rate: percent(cpus.allocated, cpus.total),
    },
    node_info: data.nodes.map(({ node, cpusAllocated }) => {
      const available = node.state === 'UP';
      return {
        node_name: node.name,
        partition: node.partitions.join(','),
        total_cpus: node.cpus,
        allocated_cpus: cpusAllocated,
        available_cpus: available ? Math.max(0, node.cpus - cpusAllocated) : 0,
        available,
        utilization_rate: percent(cpusAllocated, node.cpus),
        state: node.state,
      };
    }),
    running_jobs: data.running.map((job) => ({ ...jobSummary(job), node: job.nodeName })),
    pending_jobs: data.pending.map((job) => ({
      ...jobSummary(job),
      priority: job.priority,
      reason: reasons.get(job.id)?.reason ?? job.reason,
    })),
  };
}

/** As the original rounded it: a percentage to 2 decimals, 0 of nothing. */
function percent(part: number, whole: number): number {
  return whole > 0 ? Math.round((part / whole) * 10000) / 100 : 0;
}

/** The original's JobSummary, with its integer job_id. */
function jobSummary(job: DashboardJob) {
  return {
    job_id: job.id,
    name: job.name,
    account: job.account,
    state: job.state,
    allocated_cpus: job.cpus,
    submit_time: originalTimestamp(job.submitTime),
    start_time: job.startTime && originalTimestamp(job.startTime),
    partition: job.partition,
  };
}
