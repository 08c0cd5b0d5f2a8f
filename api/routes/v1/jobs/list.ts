import { createRoute } from '@hono/zod-openapi';
import type { JobState } from '../../../../shared/job/job-state.js';
import type { App } from '../../../app-env.js';
import { accountScope } from '../../../auth/principal.js';
import { requirePrincipal } from '../../../auth/require-principal.js';
import { jobView } from './job-view.js';
import { listJobs } from '../../../jobs/list-jobs.js';
import { pendingReasons } from '../../../jobs/pending-reasons.js';
import { problemResponses } from '../../../http/problem.js';
import { JobList, ListJobsQuery } from './schema.js';

const route = createRoute({
  method: 'get',
  path: '/v1/jobs',
  tags: ['Jobs'],
  summary: 'List jobs, newest first',
  description: "A user token sees its own account's jobs only; its account filter cannot widen that.",
  security: [{ bearer: [] }],
  middleware: [requirePrincipal('admin', 'user')] as const,
  request: { query: ListJobsQuery },
  responses: {
    200: { description: 'One page of jobs', content: { 'application/json': { schema: JobList } } },
    ...problemResponses(401, 403, 422),
  },
});

export function registerListJobs(app: App): void {
  app.openapi(route, async (c) => {
    const query = c.req.valid('query');
    const scope = accountScope(c.var.principal);
    // A user asking for another account's jobs sees none, as if there were none.
    if (scope !== undefined && query.account !== undefined && query.account !== scope) {
      return c.json({ jobs: [], next_cursor: null }, 200);
    }
    const page = await listJobs(c.var.db, {
      states: query.state?.split(',') as JobState[] | undefined,
      account: scope ?? query.account,
      user: query.user,
      partition: query.partition,
      name: query.name,
      beforeId: query.cursor === undefined ? undefined : Number(query.cursor),
      limit: query.limit,
    });
    const nextCursor = page.nextBeforeId === null ? null : String(page.nextBeforeId);
    const reasons = await pendingReasons(c.var.db, page.jobs);
    return c.json({ jobs: page.jobs.map((job) => jobView(job, reasons.get(job.id))), next_cursor: nextCursor }, 200);
  });
}
