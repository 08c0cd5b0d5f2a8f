import { createRoute } from '@hono/zod-openapi';
import type { App } from '../../app-env.js';
import { accountScope } from '../../auth/principal.js';
import { requirePrincipal } from '../../auth/require-principal.js';
import { AccountNotFound } from '../../http/errors.js';
import { problemResponses } from '../../http/problem.js';
import { getAccount } from '../account-store.js';
import { Account, AccountNameParam, accountView } from './schema.js';

const route = createRoute({
  method: 'get',
  path: '/v1/accounts/{name}',
  tags: ['Accounts'],
  summary: 'An account: its limits and what they count now',
  description:
    'Running CPUs and jobs, pending and held jobs, submits in the last minute and stored output bytes, beside each limit. A user token may read its own account only (another is answered 404). An account without limits that a token or a job names is answered with nulls and 1 share.',
  security: [{ bearer: [] }],
  middleware: [requirePrincipal('admin', 'user')] as const,
  request: { params: AccountNameParam },
  responses: {
    200: { description: 'The account', content: { 'application/json': { schema: Account } } },
    ...problemResponses(401, 403, 404, 422),
  },
});

export function registerGetAccount(app: App): void {
  app.openapi(route, async (c) => {
    const { name } = c.req.valid('param');
    const own = accountScope(c.var.principal);
    if (own !== undefined && own !== name) throw new AccountNotFound(name);
    return c.json(accountView(await getAccount(c.var.db, name)), 200);
  });
}
