import { createRoute } from '@hono/zod-openapi';
import type { App } from '../../../app-env.js';
import { requirePrincipal } from '../../../auth/require-principal.js';
import { problemResponses } from '../../../http/problem.js';
import { readNodeUsage } from '../../../nodes/node-usage.js';
import { setNodeState } from '../../../nodes/set-node-state.js';
import { Node, NodeParam, nodeView } from './schema.js';

/** POST /v1/nodes/{node}/drain and /resume: the same route twice, for the two states an admin may set. */
function stateRoute(action: 'drain' | 'resume') {
  return createRoute({
    method: 'post',
    path: `/v1/nodes/{node}/${action}`,
    tags: ['Nodes'],
    summary:
      action === 'drain'
        ? 'Drain a node (admin): it takes no new work, its running jobs finish'
        : 'Resume a drained node (admin)',
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
  ] as const) {
    app.openapi(stateRoute(action), async (c) => {
      const { node } = c.req.valid('param');
      await setNodeState(c.var.db, node, state);
      const usage = (await readNodeUsage(c.var.db)).find((entry) => entry.node.name === node)!;
      return c.json(nodeView(usage), 200);
    });
  }
}
