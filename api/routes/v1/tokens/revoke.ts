import { createRoute } from '@hono/zod-openapi';
import type { App } from '../../../app-env.js';
import { requirePrincipal } from '../../../auth/require-principal.js';
import { revokeToken } from '../../../auth/token-store.js';
import { problemResponses } from '../../../http/problem.js';
import { Token, TokenIdParam, tokenView } from './schema.js';

const route = createRoute({
  method: 'delete',
  path: '/v1/tokens/{id}',
  tags: ['Tokens'],
  summary: 'Revoke a token (admin)',
  description: 'Idempotent. This API process refuses the token at once; other processes within the token cache time.',
  security: [{ bearer: [] }],
  middleware: [requirePrincipal('admin')] as const,
  request: { params: TokenIdParam },
  responses: {
    200: { description: 'The revoked token', content: { 'application/json': { schema: Token } } },
    ...problemResponses(401, 403, 404, 422),
  },
});

export function registerRevokeToken(app: App): void {
  app.openapi(route, async (c) => {
    const row = await revokeToken(c.var.db, Number(c.req.valid('param').id));
    c.var.services.authenticator.forget(row.id);
    return c.json(tokenView(row), 200);
  });
}
