import { createRoute, z } from '@hono/zod-openapi';
import type { App } from '../../../app-env.js';
import { requirePrincipal } from '../../../auth/require-principal.js';
import { listTokens } from '../../../auth/token-store.js';
import { problemResponses } from '../../../http/problem.js';
import { Token, tokenView } from './schema.js';

const route = createRoute({
  method: 'get',
  path: '/v1/tokens',
  tags: ['Tokens'],
  summary: 'List tokens, without their secrets (admin)',
  security: [{ bearer: [] }],
  middleware: [requirePrincipal('admin')] as const,
  responses: {
    200: {
      description: 'Every token, newest first',
      content: { 'application/json': { schema: z.object({ tokens: z.array(Token) }) } },
    },
    ...problemResponses(401, 403),
  },
});

export function registerListTokens(app: App): void {
  app.openapi(route, async (c) => {
    const rows = await listTokens(c.var.db);
    return c.json({ tokens: rows.map(tokenView) }, 200);
  });
}
