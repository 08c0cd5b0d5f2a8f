import { createRoute } from '@hono/zod-openapi';
import type { App } from '../../app-env.js';
import { requirePrincipal } from '../../auth/require-principal.js';
import { problemResponses } from '../../http/problem.js';
import { deleteWebhook } from '../webhook-store.js';
import { ownWebhook } from './own-webhook.js';
import { WebhookIdParam } from './schema.js';

const route = createRoute({
  method: 'delete',
  path: '/v1/webhooks/{id}',
  tags: ['Webhooks'],
  summary: 'Unsubscribe: deletes the subscription, its undelivered deliveries and its log',
  security: [{ bearer: [] }],
  middleware: [requirePrincipal('admin', 'user')] as const,
  request: { params: WebhookIdParam },
  responses: { 204: { description: 'Deleted' }, ...problemResponses(401, 403, 404, 422) },
});

export function registerDeleteWebhook(app: App): void {
  app.openapi(route, async (c) => {
    const { id } = c.req.valid('param');
    await ownWebhook(c, id);
    await deleteWebhook(c.var.db, Number(id));
    return c.body(null, 204);
  });
}
