import { createRoute } from '@hono/zod-openapi';
import type { App } from '../../app-env.js';
import { requirePrincipal } from '../../auth/require-principal.js';
import { problemResponses } from '../../http/problem.js';
import { ownWebhook } from './own-webhook.js';
import { WebhookIdParam, WebhookView, webhookView } from './schema.js';

const route = createRoute({
  method: 'get',
  path: '/v1/webhooks/{id}',
  tags: ['Webhooks'],
  summary: 'A webhook subscription (without its secret)',
  security: [{ bearer: [] }],
  middleware: [requirePrincipal('admin', 'user')] as const,
  request: { params: WebhookIdParam },
  responses: {
    200: { description: 'The subscription', content: { 'application/json': { schema: WebhookView } } },
    ...problemResponses(401, 403, 404, 422),
  },
});

export function registerGetWebhook(app: App): void {
  app.openapi(route, async (c) => c.json(webhookView(await ownWebhook(c, c.req.valid('param').id)), 200));
}
