import { createRoute, z } from '@hono/zod-openapi';
import type { App } from '../../../app-env.js';
import { requirePrincipal } from '../../../auth/require-principal.js';
import { problemResponses } from '../../../http/problem.js';
import { readNodeUsage } from '../../../nodes/node-usage.js';
import { Node, nodeView } from './schema.js';

const route = createRoute({
  method: 'get',
  path: '/v1/nodes',
  tags: ['Nodes'],
  summary: 'Every node: state, capacity, what is allocated, last heartbeat',
  security: [{ bearer: [] }],
  middleware: [requirePrincipal('admin', 'user')] as const,
  responses: {
    200: {
      description: 'The nodes, by name',
      content: { 'application/json': { schema: z.object({ nodes: z.array(Node) }) } },
    },
    ...problemResponses(401, 403),
  },
});

export function registerListNodes(app: App): void {
  app.openapi(route, async (c) => c.json({ nodes: (await readNodeUsage(c.var.db)).map(nodeView) }, 200));
}
