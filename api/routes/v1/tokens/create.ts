import { createRoute } from '@hono/zod-openapi';
import type { App } from '../../../app-env.js';
import { requirePrincipal } from '../../../auth/require-principal.js';
import { createToken } from '../../../auth/token-store.js';
import { problemResponses } from '../../../http/problem.js';
import { CreatedToken, CreateTokenRequest, tokenView } from './schema.js';

const route = createRoute({
  method: 'post',
  path: '/v1/tokens',
  tags: ['Tokens'],
  summary: 'Create a token (admin)',
  security: [{ bearer: [] }],
  middleware: [requirePrincipal('admin')] as const,
  request: { body: { required: true, content: { 'application/json': { schema: CreateTokenRequest } } } },
  responses: {
    201: { description: 'The token, with its secret', content: { 'application/json': { schema: CreatedToken } } },
    ...problemResponses(400, 401, 403, 422),
  },
});

export function registerCreateToken(app: App): void {
  app.openapi(route, async (c) => {
    const body = c.req.valid('json');
    // Granting a node a partition configures it: jobs may be submitted to it before the node first speaks.
    if (body.partitions) await c.var.services.partitions.ensure(c.var.db, body.partitions);
    const { row, token } = await createToken(c.var.db, {
      name: body.name,
      kind: body.kind,
      account: body.account,
      user: body.user,
      nodeName: body.node,
      partitions: body.partitions,
    });
    return c.json({ ...tokenView(row), token }, 201);
  });
}
