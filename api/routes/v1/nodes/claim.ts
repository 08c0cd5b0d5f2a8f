import { createRoute } from '@hono/zod-openapi';
import type { App } from '../../../app-env.js';
import { requireGrantedPartitions } from '../../../auth/node-grant.js';
import { requireNodeAccess } from '../../../auth/require-node-access.js';
import { problemResponses } from '../../../http/problem.js';
import { readNodeState } from '../../../nodes/node-state.js';
import { ClaimRequest, ClaimResponse } from '../../../../shared/protocol/claim.js';
import { nodeProtocol } from '../../../http/node-protocol.js';
import { UNSAID_RUNS_AS } from '../../../../shared/protocol/runs-as.js';
import { NodeParam, refView } from './schema.js';

const route = createRoute({
  method: 'post',
  path: '/v1/nodes/{node}/claim',
  tags: ['Nodes'],
  summary: 'Claim refs that fit the node (for nodes without Redis access)',
  description:
    'Runs the claim of the configured queue for this node: the first refs in queue order that it runs (runs_as) and that fit its free cores and memory move to its claimed set. Confirm them next. A node gets work only while UP: registered by its heartbeat, not draining.',
  security: [{ bearer: [] }],
  middleware: [nodeProtocol, requireNodeAccess()] as const,
  request: {
    params: NodeParam,
    body: { required: true, content: { 'application/json': { schema: ClaimRequest } } },
  },
  responses: {
    200: { description: 'The refs taken, maybe none', content: { 'application/json': { schema: ClaimResponse } } },
    ...problemResponses(400, 401, 403, 422, 503),
  },
});

export function registerClaim(app: App): void {
  app.openapi(route, async (c) => {
    const { node } = c.req.valid('param');
    const body = c.req.valid('json');
    requireGrantedPartitions(c.var.principal, body.partitions);
    // Only an UP node gets work: one never seen has no heartbeat to tell when it dies, a DRAINING one takes none.
    if ((await readNodeState(c.var.db, node)) !== 'UP') return c.json({ refs: [] }, 200);
    const refs = await c.var.services.queue.claim(
      {
        node,
        partitions: body.partitions,
        cpus: body.cpus,
        memoryMb: body.memory_mb,
        freeCpus: body.free_cpus,
        freeMemoryMb: body.free_memory_mb,
        runsAs: body.runs_as ?? UNSAID_RUNS_AS,
        ...(body.running && {
          running: body.running.map((job) => ({
            cpus: job.cpus,
            memoryMb: job.memory_mb,
            endsInMs: job.ends_in_ms,
          })),
        }),
      },
      body.max === undefined ? {} : { max: body.max },
    );
    c.var.services.metrics?.claimed(refs.length);
    return c.json({ refs: refs.map(refView) }, 200);
  });
}
