import { createRoute } from '@hono/zod-openapi';
import type { App } from '../../../app-env.js';
import { actorName } from '../../../auth/principal.js';
import { requireGrantedPartitions } from '../../../auth/node-grant.js';
import { requireNodeAccess } from '../../../auth/require-node-access.js';
import { problemResponses } from '../../../http/problem.js';
import { recordHeartbeat } from '../../../nodes/record-heartbeat.js';
import { pushOwedRefs } from '../../../jobs/push-not-enqueued.js';
import { HeartbeatRequest, HeartbeatResponse } from '../../../../shared/protocol/heartbeat.js';
import { nodeProtocol } from '../../../http/node-protocol.js';
import type { RunId } from '../../../../shared/protocol/run-id.js';
import { NodeParam } from './schema.js';
import { UNSAID_RUNS_AS } from '../../../../shared/protocol/runs-as.js';

const route = createRoute({
  method: 'post',
  path: '/v1/nodes/{node}/heartbeat',
  tags: ['Nodes'],
  summary: "A node's heartbeat: registers it on the first, keeps it UP, and tells it which jobs to cancel",
  description:
    "Carries the capacity the node has, and its runs. A RUNNING job of the node confirmed under a sequence no higher than the heartbeat's `confirmed_through` that it lists neither as running nor as ended was lost there: it goes back to PENDING when it asked for requeue, ends CANCELLED when its cancel was asked for, and FAILED otherwise. Each heartbeat renews the node's lease (`lease_seconds`, CONDUCTOR_NODE_LEASE_SECONDS): a node that cannot renew it stops its runs before it ends. A node whose lease has ended is marked DOWN by the reconciler, and its RUNNING jobs end NODE_FAIL, or go back to PENDING when they asked for requeue; with a lease that never expires, only when an admin declares the node DOWN.",
  security: [{ bearer: [] }],
  middleware: [nodeProtocol, requireNodeAccess()] as const,
  request: {
    params: NodeParam,
    body: { required: true, content: { 'application/json': { schema: HeartbeatRequest } } },
  },
  responses: {
    200: {
      description: "The node's state and its jobs to cancel",
      content: { 'application/json': { schema: HeartbeatResponse } },
    },
    ...problemResponses(400, 401, 403, 422, 503),
  },
});

const runOf = (run: RunId) => ({ jobId: Number(run.job_id), attempt: run.attempt });

export function registerHeartbeat(app: App): void {
  app.openapi(route, async (c) => {
    const { node } = c.req.valid('param');
    const body = c.req.valid('json');
    // Before anything is recorded: a node may not even announce a partition it was not enrolled for.
    requireGrantedPartitions(c.var.principal, body.partitions);
    // The partitions a node serves are configured by its serving them (an admin set up the node).
    await c.var.services.partitions.ensure(c.var.db, body.partitions);
    const { state, cancel, stop, settled } = await recordHeartbeat(c.var.db, {
      node,
      partitions: body.partitions,
      cpus: body.cpus,
      memoryMb: body.memory_mb,
      protocol: c.var.protocol,
      daemonVersion: body.daemon_version ?? null,
      containment: body.containment ?? null,
      runsAs: body.runs_as ?? UNSAID_RUNS_AS,
      running: (body.running ?? []).map(runOf),
      ended: (body.ended ?? []).map(runOf),
      confirmedThrough: body.confirmed_through,
      actor: actorName(c.var.principal),
      leaseMs: c.var.services.nodeLeaseMs,
    });
    // A run it settled may have released jobs (a dependent, a retry, an array's next task): their refs are pushed now.
    if (settled > 0) await pushOwedRefs(c.var.db, c.var.services);
    const view = (runs: typeof cancel) => runs.map((run) => ({ job_id: String(run.jobId), attempt: run.attempt }));
    const cluster_id = await c.var.services.clusterId(c.var.db);
    const { nodeLeaseMs } = c.var.services;
    const lease_seconds = nodeLeaseMs === null ? null : nodeLeaseMs / 1000;
    return c.json({ state, cancel: view(cancel), stop: view(stop), cluster_id, lease_seconds }, 200);
  });
}
