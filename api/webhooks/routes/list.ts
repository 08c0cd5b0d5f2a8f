import { createRoute, z } from '@hono/zod-openapi';
import type { App } from '../../app-env.js';
import { accountScope } from '../../auth/principal.js';
import { requirePrincipal } from '../../auth/require-principal.js';
import { problemResponses } from '../../http/problem.js';
import { listWebhooks } from '../webhook-store.js';
import { WebhookView, webhookView } from './schema.js';

const route = createRoute({
  method: 'get',
  path: '/v1/webhooks',
  tags: ['Webhooks'],
  summary: "The webhook subscriptions: every account's for an admin, its own for a user token",
  security: [{ bearer: [] }],
  middleware: [requirePrincipal('admin', 'user')] as const,
  responses: {
    200: {
      description: 'The subscriptions, without their secrets',
      content: { 'application/json': { schema: z.object({ webhooks: z.array(WebhookView) }) } },
    },
    ...problemResponses(401, 403),
  },
});

export function registerListWebhooks(app: App): void {
  app.openapi(route, async (c) => {
    const webhooks = await listWebhooks(c.var.db, accountScope(c.var.principal));
    return c.json({ webhooks: webhooks.map(webhookView) }, 200);
  });
}
