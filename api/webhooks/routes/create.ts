import { createRoute } from '@hono/zod-openapi';
import type { App } from '../../app-env.js';
import { requirePrincipal } from '../../auth/require-principal.js';
import { Forbidden, ValidationFailed } from '../../http/errors.js';
import { problemResponses } from '../../http/problem.js';
import { newWebhookSecret } from '../webhook-signature.js';
import { createWebhook } from '../webhook-store.js';
import { checkTarget } from './own-webhook.js';
import { CreatedWebhook, CreateWebhookRequest, webhookView } from './schema.js';

const route = createRoute({
  method: 'post',
  path: '/v1/webhooks',
  tags: ['Webhooks'],
  summary: "Subscribe a URL to an account's job events",
  description: [
    'Each job event of the account from now on (filtered by `states`) is POSTed to `url` as JSON `{id, type, created_at, data}` (data: a StreamEvent), signed in `Conductor-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`, with `Conductor-Event-Id` for idempotency. At least once, in order per job; any answer but 2xx is retried with exponential backoff for 24 hours.',
    'The URL must be https (http only to a host CONDUCTOR_WEBHOOK_ALLOW names) and must not reach loopback, private, link-local or CGNAT addresses unless CONDUCTOR_WEBHOOK_ALLOW lets it (422 naming `url`).',
    'The secret is answered here only.',
  ].join('\n\n'),
  security: [{ bearer: [] }],
  middleware: [requirePrincipal('admin', 'user')] as const,
  request: { body: { required: true, content: { 'application/json': { schema: CreateWebhookRequest } } } },
  responses: {
    201: {
      description: 'The subscription, with its secret',
      content: { 'application/json': { schema: CreatedWebhook } },
    },
    ...problemResponses(400, 401, 403, 422),
  },
});

export function registerCreateWebhook(app: App): void {
  app.openapi(route, async (c) => {
    const body = c.req.valid('json');
    const { principal } = c.var;
    let account: string;
    if (principal.kind === 'user') {
      if (body.account !== undefined && body.account !== principal.account)
        throw new Forbidden(`this token manages account ${principal.account}'s webhooks only`);
      account = principal.account;
    } else if (body.account === undefined) {
      throw new ValidationFailed([{ field: 'account', message: 'is required for an admin token' }]);
    } else account = body.account;
    await checkTarget(c, body.url);
    const secret = body.secret ?? newWebhookSecret();
    const webhook = await createWebhook(c.var.db, { account, url: body.url, states: body.states ?? null, secret });
    return c.json({ ...webhookView(webhook), secret }, 201);
  });
}
