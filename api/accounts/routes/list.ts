import { createRoute } from '@hono/zod-openapi';
import type { App } from '../../app-env.js';
import { accountScope } from '../../auth/principal.js';
import { requirePrincipal } from '../../auth/require-principal.js';
import { problemResponses } from '../../http/problem.js';
import { listAccounts } from '../account-store.js';
import { AccountList, accountView } from './schema.js';

const route = createRoute({
  method: 'get',
  path: '/v1/accounts',
  tags: ['Accounts'],
  summary: 'List accounts with their limits and usage',
  description:
    "An admin sees every account with limits, and every account a token or an active job names (those without limits show nulls and 1 share); a user token sees its own account only. As `sacctmgr show associations`, with each limit's usage now.",
  security: [{ bearer: [] }],
  middleware: [requirePrincipal('admin', 'user')] as const,
  responses: {
    200: { description: 'The accounts, by name', content: { 'application/json': { schema: AccountList } } },
    ...problemResponses(401, 403),
  },
});

export function registerListAccounts(app: App): void {
  app.openapi(route, async (c) => {
    const accounts = await listAccounts(c.var.db, accountScope(c.var.principal));
    return c.json({ accounts: accounts.map(accountView) }, 200);
  });
}
