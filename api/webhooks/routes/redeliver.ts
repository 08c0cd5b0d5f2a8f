import { createRoute } from '@hono/zod-openapi';
import type { App } from '../../app-env.js';
import { requirePrincipal } from '../../auth/require-principal.js';
import { DeliveryNotFound } from '../../http/errors.js';
import { problemResponses } from '../../http/problem.js';
import { redeliver } from '../webhook-store.js';
import { ownWebhook } from './own-webhook.js';
import { DeliveryParams, DeliveryView, deliveryView } from './schema.js';

const route = createRoute({
  method: 'post',
  path: '/v1/webhooks/{id}/deliveries/{delivery}/redeliver',
  tags: ['Webhooks'],
  summary: 'Send a delivery again',
  description:
    'A failed delivery gets another 24 hours of retries; a delivered one is sent once more, with the same body and Conductor-Event-Id. It goes out once no earlier delivery of its job is still open.',
  security: [{ bearer: [] }],
  middleware: [requirePrincipal('admin', 'user')] as const,
  request: { params: DeliveryParams },
  responses: {
    202: { description: 'Queued again', content: { 'application/json': { schema: DeliveryView } } },
    ...problemResponses(401, 403, 404, 422),
  },
});

export function registerRedeliver(app: App): void {
  app.openapi(route, async (c) => {
    const { id, delivery } = c.req.valid('param');
    await ownWebhook(c, id);
    const queued = await redeliver(c.var.db, Number(id), Number(delivery), c.var.services.now());
    if (!queued) throw new DeliveryNotFound(id, delivery);
    c.var.services.webhooks.wake();
    return c.json(deliveryView(queued), 202);
  });
}
