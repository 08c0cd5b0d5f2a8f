import { createRoute } from '@hono/zod-openapi';
import type { App } from '../../app-env.js';
import { requirePrincipal } from '../../auth/require-principal.js';
import { problemResponses } from '../../http/problem.js';
import { pushOwedRefs } from '../../jobs/push-not-enqueued.js';
import { getAccount, putAccount } from '../account-store.js';
import { releaseHeldJobs } from '../release-held-jobs.js';
import { Account, AccountLimitsRequest, AccountNameParam, accountView, limitsOf } from './schema.js';

const route = createRoute({
  method: 'put',
  path: '/v1/accounts/{name}',
  tags: ['Accounts'],
  summary: "Set an account's limits and shares (admin)",
  description:
    "Creates the account's limits or replaces all of them (`sacctmgr modify account`): a limit left out or null is none, shares 1. Every API process applies them from the next submit or confirm. Jobs a lowered running limit finds running keep running; jobs a raised one has room for start now.",
  security: [{ bearer: [] }],
  middleware: [requirePrincipal('admin')] as const,
  request: {
    params: AccountNameParam,
    body: { required: true, content: { 'application/json': { schema: AccountLimitsRequest } } },
  },
  responses: {
    200: { description: 'The account with its usage', content: { 'application/json': { schema: Account } } },
    ...problemResponses(400, 401, 403, 422),
  },
});

export function registerPutAccount(app: App): void {
  app.openapi(route, async (c) => {
    const { name } = c.req.valid('param');
    await putAccount(c.var.db, name, limitsOf(c.req.valid('json')));
    // A raised limit has room for jobs it held: started now rather than at the reconciler's next run.
    if ((await releaseHeldJobs(c.var.db, [name])) > 0) await pushOwedRefs(c.var.db, c.var.services);
    return c.json(accountView(await getAccount(c.var.db, name)), 200);
  });
}
