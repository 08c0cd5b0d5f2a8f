import { createRoute } from '@hono/zod-openapi';
import type { App } from '../../../app-env.js';
import { actorName } from '../../../auth/principal.js';
import { requireNodeAccess } from '../../../auth/require-node-access.js';
import { confirmClaims } from '../../../jobs/confirm-claims.js';
import { problemResponses } from '../../../http/problem.js';
import { ConfirmRequest, ConfirmResponse, NodeParam, nodeJobView } from './schema.js';

const route = createRoute({
  method: 'post',
  path: '/v1/nodes/{node}/confirm',
  tags: ['Nodes'],
  summary: 'Confirm claimed refs: PENDING → RUNNING on this node',
  description:
    'One conditional write for the whole batch. Jobs still PENDING start on this node as a new attempt and come back with their scripts; the rest are dropped. Either way the refs leave the claimed set.',
  security: [{ bearer: [] }],
  middleware: [requireNodeAccess()] as const,
  request: {
    params: NodeParam,
    body: { required: true, content: { 'application/json': { schema: ConfirmRequest } } },
  },
  responses: {
    200: { description: 'What to run, and what not to', content: { 'application/json': { schema: ConfirmResponse } } },
    ...problemResponses(400, 401, 403, 422),
  },
});

export function registerConfirm(app: App): void {
  app.openapi(route, async (c) => {
    const { node } = c.req.valid('param');
    const ids = [...new Set(c.req.valid('json').job_ids.map(Number))];
    const { started, dropped } = await confirmClaims(c.var.db, node, ids, actorName(c.var.principal));
    // After the write: if this fails, the refs stay claimed and a later confirm or requeue settles them harmlessly.
    await c.var.services.queue.settle(node, ids).catch((error: Error) => {
      console.warn(`node ${node}: settling ${ids.length} refs failed: ${error.message}`);
    });
    return c.json({ jobs: started.map(nodeJobView), dropped: dropped.map(String) }, 200);
  });
}
