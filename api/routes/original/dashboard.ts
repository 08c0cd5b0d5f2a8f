import { createRoute, z } from '@hono/zod-openapi';
import { JOB_STATES } from '../../../shared/job/job-state.js';
import { formatDuration } from '../../../shared/job/time-limit.js';
import type { App } from '../../app-env.js';
import { accountScope } from '../../auth/principal.js';
import { requirePrincipal } from '../../auth/require-principal.js';
import { summarize } from '../../jobs/count-jobs.js';
import { readDashboard, type DashboardData } from '../../dashboard/read-dashboard.js';
import type { NodeUsage } from '../../nodes/node-usage.js';
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
        reason: z.string().nullable(),
        submit_time: z.string(),
      }),
    ),
  })
  .openapi('Dashboard');

const route = createRoute({
  method: 'get',
  path: '/dashboard',
  tags: ['Original'],
  summary: 'Job counts, resources, nodes, and the running and pending jobs in queue order',
  description: `Lists show at most 100 jobs each; the counts are exact. A user token sees its own account's jobs.`,
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
    const data = await readDashboard(db, accountScope(c.var.principal));
    return c.json(dashboardView(data, now()), 200);
  });
}

function dashboardView(data: DashboardData, now: Date): z.infer<typeof Dashboard> {
  const live = data.nodes.filter(({ node }) => node.state !== 'DOWN');
  const up = data.nodes.filter(({ node }) => node.state === 'UP');
  const sum = (usages: NodeUsage[], pick: (usage: NodeUsage) => number) =>
    usages.reduce((total, u) => total + pick(u), 0);
  const capacity = (total: (u: NodeUsage) => number, allocated: (u: NodeUsage) => number) => ({
    total: sum(live, total),
    allocated: sum(live, allocated),
    idle: sum(up, (u) => Math.max(0, total(u) - allocated(u))),
  });
  return {
    jobs: summarize(data.counts),
    resources: {
      nodes: {
        total: data.nodes.length,
        up: up.length,
        draining: data.nodes.filter(({ node }) => node.state === 'DRAINING').length,
        down: data.nodes.length - live.length,
      },
      cpus: capacity(
        (u) => u.node.cpus,
        (u) => u.cpusAllocated,
      ),
      memory_mb: capacity(
        (u) => u.node.memoryMb,
        (u) => u.memoryAllocatedMb,
      ),
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
      reason: job.reason,
      submit_time: job.submitTime.toISOString(),
    })),
  };
}
