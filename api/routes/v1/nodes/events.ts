import { createRoute } from '@hono/zod-openapi';
import { EventsRequest, EventsResponse } from '../../../../shared/protocol/events.js';
import type { App } from '../../../app-env.js';
import { pushOwedRefs } from '../../../jobs/push-not-enqueued.js';
import { actorName } from '../../../auth/principal.js';
import { requireNodeAccess } from '../../../auth/require-node-access.js';
import { applyNodeEvents } from '../../../jobs/apply-node-event.js';
import { nodeProtocol } from '../../../http/node-protocol.js';
import { problemResponses } from '../../../http/problem.js';
import { NodeParam } from './schema.js';

const route = createRoute({
  method: 'post',
  path: '/v1/nodes/{node}/events',
  tags: ['Nodes'],
  summary: 'Report job events from a node, in a batch',
  description:
    "Each event names the job's attempt. Each answer acknowledges its event: applied, duplicate (a retry of one applied before), or refused for good (another attempt or another node's: fencing). A node retries a batch until it gets this answer.",
  security: [{ bearer: [] }],
  middleware: [nodeProtocol, requireNodeAccess()] as const,
  request: {
    params: NodeParam,
    body: { required: true, content: { 'application/json': { schema: EventsRequest } } },
  },
  responses: {
    200: { description: 'One result per event, in order', content: { 'application/json': { schema: EventsResponse } } },
    ...problemResponses(400, 401, 403, 422, 503),
  },
});

export function registerNodeEvents(app: App): void {
  app.openapi(route, async (c) => {
    const { node } = c.req.valid('param');
    const actor = actorName(c.var.principal);
    const bodies = c.req.valid('json').events;
    const outcomes = await applyNodeEvents(c.var.db, node, bodies, actor);
    await c.var.services.faults('events.committed');
    // A run that ended may have released jobs its account's running limits held, or been requeued: pushed now.
    if (bodies.some((body, n) => body.kind === 'finished' && outcomes[n] === 'applied')) {
      await pushOwedRefs(c.var.db, c.var.services);
    }
    const results = bodies.map((body, n) => ({
      job_id: body.job_id,
      attempt: body.attempt,
      kind: body.kind,
      result: outcomes[n]!,
    }));
    return c.json({ results }, 200);
  });
}
