import { createRoute } from '@hono/zod-openapi';
import type { App } from '../../app-env.js';
import { requirePrincipal } from '../../auth/require-principal.js';
import { problemResponses } from '../../http/problem.js';
import { updateWebhook } from '../webhook-store.js';
import { checkTarget, ownWebhook } from './own-webhook.js';
import { UpdateWebhookRequest, WebhookIdParam, WebhookView, webhookView } from './schema.js';

const route = createRoute({
  method: 'patch',
  path: '/v1/webhooks/{id}',
  tags: ['Webhooks'],
  summary: "Change a subscription's URL, states or secret",
  description:
    'Fields left out keep their values. Deliveries not yet sent go to the new URL, signed with the new secret; events already queued stay queued whatever the new states.',
  security: [{ bearer: [] }],
  middleware: [requirePrincipal('admin', 'user')] as const,
  request: {
    params: WebhookIdParam,
    body: { required: true, content: { 'application/json': { schema: UpdateWebhookRequest } } },
  },
  responses: {
    200: { description: 'The subscription', content: { 'application/json': { schema: WebhookView } } },
    ...problemResponses(400, 401, 403, 404, 422),
  },
});

export function registerUpdateWebhook(app: App): void {
  app.openapi(route, async (c) => {
    const { id } = c.req.valid('param');
    const body = c.req.valid('json');
    await ownWebhook(c, id);
    if (body.url !== undefined) await checkTarget(c, body.url);
    const webhook = await updateWebhook(c.var.db, Number(id), body);
    return c.json(webhookView(webhook ?? (await ownWebhook(c, id))), 200);
  });
}
