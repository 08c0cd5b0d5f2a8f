import { createRoute } from '@hono/zod-openapi';
import type { App } from '../../app-env.js';
import { requirePrincipal } from '../../auth/require-principal.js';
import { problemResponses } from '../../http/problem.js';
import { pushOwedRefs } from '../../jobs/push-not-enqueued.js';
import { deleteAccount, listAccounts } from '../account-store.js';
import { releaseHeldJobs } from '../release-held-jobs.js';
import { Account, AccountNameParam, accountView } from './schema.js';

const route = createRoute({
  method: 'delete',
  path: '/v1/accounts/{name}',
  tags: ['Accounts'],
  summary: "Delete an account's limits (admin)",
  description:
    'The account then has no limits and 1 share (its jobs and tokens stay); the jobs its running limits held start. 404 when it had no limits set.',
  security: [{ bearer: [] }],
  middleware: [requirePrincipal('admin')] as const,
  request: { params: AccountNameParam },
  responses: {
    200: {
      description: 'The account as it is now, without limits',
      content: { 'application/json': { schema: Account } },
    },
    ...problemResponses(401, 403, 404, 422),
  },
});

export function registerDeleteAccount(app: App): void {
  app.openapi(route, async (c) => {
    const { name } = c.req.valid('param');
    await deleteAccount(c.var.db, name);
    if ((await releaseHeldJobs(c.var.db, [name])) > 0) await pushOwedRefs(c.var.db, c.var.services);
    // Listed by name: answered with its defaults even when nothing names it any more.
    const [account] = await listAccounts(c.var.db, name);
    return c.json(accountView(account!), 200);
  });
}
