import { createRoute } from '@hono/zod-openapi';
import type { App } from '../../../app-env.js';
import { requirePrincipal } from '../../../auth/require-principal.js';
import { setTokenUser } from '../../../auth/token-store.js';
import { problemResponses } from '../../../http/problem.js';
import { Token, TokenIdParam, tokenView, UpdateTokenRequest } from './schema.js';

const route = createRoute({
  method: 'patch',
  path: '/v1/tokens/{id}',
  tags: ['Tokens'],
  summary: "Set a user token's Unix user (admin)",
  description:
    'Its later jobs run as this user; jobs already submitted keep theirs. How a user token made before owners, whose name was no login name, is given one. This API process uses the new user at once; other processes within the token cache time.',
  security: [{ bearer: [] }],
  middleware: [requirePrincipal('admin')] as const,
  request: {
    params: TokenIdParam,
    body: { required: true, content: { 'application/json': { schema: UpdateTokenRequest } } },
  },
  responses: {
    200: { description: 'The token', content: { 'application/json': { schema: Token } } },
    ...problemResponses(400, 401, 403, 404, 422),
  },
});

export function registerUpdateToken(app: App): void {
  app.openapi(route, async (c) => {
    const row = await setTokenUser(c.var.db, Number(c.req.valid('param').id), c.req.valid('json').user);
    // Its cached principal names the old user: dropped, so this process reads the new one.
    c.var.services.authenticator.forget(row.id);
    return c.json(tokenView(row), 200);
  });
}
