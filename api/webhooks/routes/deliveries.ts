import { createRoute, z } from '@hono/zod-openapi';
import type { App } from '../../app-env.js';
import { requirePrincipal } from '../../auth/require-principal.js';
import { problemResponses } from '../../http/problem.js';
import { listDeliveries } from '../webhook-store.js';
import { ownWebhook } from './own-webhook.js';
import { DeliveriesQuery, DeliveryView, deliveryView, WebhookIdParam } from './schema.js';

const route = createRoute({
  method: 'get',
  path: '/v1/webhooks/{id}/deliveries',
  tags: ['Webhooks'],
  summary: "A subscription's delivery log, newest first",
  description:
    'Each event queued for the subscription: its attempts, the last status code or error (a refused target says so), when it is tried next, and when it was delivered or given up (24 hours after its first attempt).',
  security: [{ bearer: [] }],
  middleware: [requirePrincipal('admin', 'user')] as const,
  request: { params: WebhookIdParam, query: DeliveriesQuery },
  responses: {
    200: {
      description: 'The deliveries',
      content: { 'application/json': { schema: z.object({ deliveries: z.array(DeliveryView) }) } },
    },
    ...problemResponses(401, 403, 404, 422),
  },
});

export function registerWebhookDeliveries(app: App): void {
  app.openapi(route, async (c) => {
    const { id } = c.req.valid('param');
    const { limit, before } = c.req.valid('query');
    await ownWebhook(c, id);
    const deliveries = await listDeliveries(
      c.var.db,
      Number(id),
      limit,
      before === undefined ? undefined : Number(before),
    );
    return c.json({ deliveries: deliveries.map(deliveryView) }, 200);
  });
}
