import { createRoute, z } from '@hono/zod-openapi';
import { JOB_STATES } from '../../../shared/job/job-state.js';
import { formatDuration } from '../../../shared/job/time-limit.js';
import type { App } from '../../app-env.js';
import { accountScope } from '../../auth/principal.js';
import { requirePrincipal } from '../../auth/require-principal.js';
import { summarize } from '../../jobs/count-jobs.js';
import { pendingReasons, type PendingReason } from '../../jobs/pending-reasons.js';
import { readDashboard, type DashboardData } from '../../dashboard/read-dashboard.js';
import { clusterCapacity } from '../../nodes/node-usage.js';
import { problemResponses } from '../../http/problem.js';

const Capacity = z.object({ total: z.number(), allocated: z.number(), idle: z.number() });

const Dashboard = z
  .object({
    jobs: z.object({ total: z.number().int(), by_state: z.record(z.enum(JOB_STATES), z.number().int()) }),
    resources: z.object({
      nodes: z.object({
        total: z.number().int(),
        up: z.number().int(),
        draining: z.number().int(),
        down: z.number().int(),
      }),
      cpus: Capacity.openapi({ description: 'total: cores of nodes not DOWN; idle: free cores of UP nodes.' }),
      memory_mb: Capacity,
    }),
    nodes: z.array(
      z.object({
        name: z.string(),
        state: z.enum(['UP', 'DOWN', 'DRAINING']),
        partitions: z.array(z.string()),
        cpus: z.number().int(),
        cpus_allocated: z.number().int(),
        memory_mb: z.number().int(),
        memory_allocated_mb: z.number(),
        last_heartbeat: z.string().nullable(),
      }),
    ),
    running: z.array(
      z.object({
        job_id: z.string(),
        name: z.string(),
        account: z.string(),
        partition: z.string(),
        node: z.string().nullable(),
        cpus: z.number().int(),
        start_time: z.string().nullable(),
        elapsed_time: z.string(),
      }),
    ),
    pending: z.array(
      z.object({
        job_id: z.string(),
        name: z.string(),
        account: z.string(),
        partition: z.string(),
        priority: z.number().int(),
        cpus: z.number().int(),
        reason: z.string().nullable().openapi({ description: 'Why it waits, as GET /v1/jobs/{id} reads it now.' }),
        reason_detail: z.string().nullable(),
        submit_time: z.string(),
      }),
    ),
  })
  .openapi('Dashboard');

/** How many running and pending jobs this dashboard lists; the counts cover them all. */
const LIST_LIMIT = 100;

const route = createRoute({
  method: 'get',
  path: '/v1/dashboard',
  tags: ['Stats'],
  summary: 'Job counts, resources, nodes, and the running and pending jobs in queue order',
  description: `Lists show at most ${LIST_LIMIT} jobs each (running: the most recently started); the counts are exact. A user token sees its own account's jobs.`,
  security: [{ bearer: [] }],
  middleware: [requirePrincipal('admin', 'user')] as const,
  responses: {
    200: { description: 'The dashboard', content: { 'application/json': { schema: Dashboard } } },
    ...problemResponses(401, 403),
  },
});

export function registerDashboard(app: App): void {
  app.openapi(route, async (c) => {
    const { db } = c.var;
    const { now } = c.var.services;
    const data = await readDashboard(db, accountScope(c.var.principal), LIST_LIMIT);
    return c.json(dashboardView(data, await pendingReasons(db, data.pending), now()), 200);
  });
}

function dashboardView(data: DashboardData, reasons: Map<number, PendingReason>, now: Date): z.infer<typeof Dashboard> {
  const count = (state: string) => data.nodes.filter(({ node }) => node.state === state).length;
  return {
    jobs: summarize(data.counts),
    resources: {
      nodes: { total: data.nodes.length, up: count('UP'), draining: count('DRAINING'), down: count('DOWN') },
      cpus: clusterCapacity(data.nodes, (u) => ({ total: u.node.cpus, allocated: u.cpusAllocated })),
      memory_mb: clusterCapacity(data.nodes, (u) => ({ total: u.node.memoryMb, allocated: u.memoryAllocatedMb })),
    },
    nodes: data.nodes.map(({ node, cpusAllocated, memoryAllocatedMb }) => ({
      name: node.name,
      state: node.state,
      partitions: node.partitions,
      cpus: node.cpus,
      cpus_allocated: cpusAllocated,
      memory_mb: node.memoryMb,
      memory_allocated_mb: memoryAllocatedMb,
      last_heartbeat: node.lastHeartbeat?.toISOString() ?? null,
    })),
    running: data.running.map((job) => ({
      job_id: String(job.id),
      name: job.name,
      account: job.account,
      partition: job.partition,
      node: job.nodeName,
      cpus: job.cpus,
      start_time: job.startTime?.toISOString() ?? null,
      elapsed_time: formatDuration(job.startTime ? (now.getTime() - job.startTime.getTime()) / 1000 : 0),
    })),
    pending: data.pending.map((job) => ({
      job_id: String(job.id),
      name: job.name,
      account: job.account,
      partition: job.partition,
      priority: job.priority,
      cpus: job.cpus,
      reason: reasons.get(job.id)?.reason ?? job.reason,
      reason_detail: reasons.get(job.id)?.detail ?? null,
      submit_time: job.submitTime.toISOString(),
    })),
  };
}
