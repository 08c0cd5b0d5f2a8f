import { createRoute } from '@hono/zod-openapi';
import type { App } from '../../../app-env.js';
import { requirePrincipal } from '../../../auth/require-principal.js';
import { problemResponses } from '../../../http/problem.js';
import { readNodeUsage } from '../../../nodes/node-usage.js';
import { setNodeState } from '../../../nodes/set-node-state.js';
import { Node, NodeParam, nodeView } from './schema.js';

const SUMMARIES = {
  drain: 'Drain a node (admin): it takes no new work, its running jobs finish',
  resume: 'Resume a drained node (admin)',
  down: "Declare a silent node DOWN (admin): its lease ends now, and the reconciler settles its jobs (requeued or NODE_FAIL) at its next run. For a lease that never expires (CONDUCTOR_NODE_LEASE_SECONDS=never), the only way to settle a node that does not return: declare it only once its jobs' processes are known to be gone (the machine is off). A node that heartbeats again is UP.",
} as const;

/** POST /v1/nodes/{node}/drain, /resume and /down: the same route thrice, for the states an admin may set. */
function stateRoute(action: keyof typeof SUMMARIES) {
  return createRoute({
    method: 'post',
    path: `/v1/nodes/{node}/${action}`,
    tags: ['Nodes'],
    summary: SUMMARIES[action],
    security: [{ bearer: [] }],
    middleware: [requirePrincipal('admin')] as const,
    request: { params: NodeParam },
    responses: {
      200: { description: 'The node', content: { 'application/json': { schema: Node } } },
      ...problemResponses(401, 403, 404, 422),
    },
  });
}

export function registerSetNodeState(app: App): void {
  for (const [action, state] of [
    ['drain', 'DRAINING'],
    ['resume', 'UP'],
    ['down', 'DOWN'],
  ] as const) {
    app.openapi(stateRoute(action), async (c) => {
      const { node } = c.req.valid('param');
      await setNodeState(c.var.db, node, state);
      const usage = (await readNodeUsage(c.var.db)).find((entry) => entry.node.name === node)!;
      return c.json(nodeView(usage), 200);
    });
  }
}
