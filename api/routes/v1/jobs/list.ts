import { createRoute } from '@hono/zod-openapi';
import type { App } from '../../../app-env.js';
import { requirePrincipal } from '../../../auth/require-principal.js';
import { accountingView, jobView } from './job-view.js';
import { collapsedDisplayIds } from '../../../jobs/array-collapse.js';
import { jobFilter } from '../../../jobs/job-filter-query.js';
import { readListCursor, writeListCursor } from '../../../jobs/list-cursor.js';
import { listJobs, listQueue } from '../../../jobs/list-jobs.js';
import { pendingReasons } from '../../../jobs/pending-reasons.js';
import { latestRunUsage } from '../../../jobs/run-usage.js';
import { ValidationFailed } from '../../../http/errors.js';
import { problemResponses } from '../../../http/problem.js';
import { JobList, ListJobsQuery } from './schema.js';

const route = createRoute({
  method: 'get',
  path: '/v1/jobs',
  tags: ['Jobs'],
  summary: 'List jobs, newest first or in queue order',
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
    const position = query.cursor === undefined ? undefined : readListCursor(query.cursor, query.order);
    if (query.cursor !== undefined && position === undefined) {
      throw new ValidationFailed([
        {
          field: 'cursor',
          in: 'query',
          message: `is the next_cursor of a listing in another order than ${query.order}`,
        },
      ]);
    }
    const asked = jobFilter(query, c.var.principal);
    if (asked === undefined) return c.json({ jobs: [], next_cursor: null }, 200);
    const filter = { ...asked, collapseArrays: query.expand_arrays === 'false' || query.expand_arrays === '0' };
    const page =
      position?.order === 'newest' || (position === undefined && query.order === 'newest')
        ? await listJobs(c.var.db, filter, query.limit, position?.beforeId)
        : await listQueue(c.var.db, filter, query.limit, position?.after);
    const reasons = await pendingReasons(c.var.db, page.jobs);
    const usage = await latestRunUsage(
      c.var.db,
      page.jobs.map((job) => job.id),
    );
    const collapsed = filter.collapseArrays
      ? await collapsedDisplayIds(c.var.db, page.jobs)
      : new Map<number, string>();
    const now = c.var.services.now();
    const view = (job: (typeof page.jobs)[number]) => {
      const shown = { ...jobView(job, now, reasons.get(job.id)), ...accountingView(job, usage.get(job.id)) };
      const displayId = collapsed.get(job.id);
      return displayId === undefined ? shown : { ...shown, display_id: displayId };
    };
    return c.json(
      {
        jobs: page.jobs.map(view),
        next_cursor: page.next === null ? null : writeListCursor(page.next),
      },
      200,
    );
  });
}
