import { createRoute } from '@hono/zod-openapi';
import type { App } from '../../../app-env.js';
import { accountScope } from '../../../auth/principal.js';
import { requirePrincipal } from '../../../auth/require-principal.js';
import { findJob } from '../../../jobs/find-job.js';
import { pendingReasons } from '../../../jobs/pending-reasons.js';
import { priorityFactors } from '../../../priority/priority-factors.js';
import { jobDetailView } from './job-view.js';
import { showDependency, withDependencyDetail } from '../../../jobs/dependencies/dependency-view.js';
import { problemResponses } from '../../../http/problem.js';
import { JobDetail, JobIdParam } from './schema.js';

const route = createRoute({
  method: 'get',
  path: '/v1/jobs/{id}',
  tags: ['Jobs'],
  summary: 'Get a job',
  security: [{ bearer: [] }],
  middleware: [requirePrincipal('admin', 'user')] as const,
  request: { params: JobIdParam },
  responses: {
    200: {
      description: 'The job, with its script and environment, and while PENDING its priority factors (as sprio -l)',
      content: { 'application/json': { schema: JobDetail } },
    },
    ...problemResponses(401, 403, 404, 422),
  },
});

export function registerGetJob(app: App): void {
  app.openapi(route, async (c) => {
    const job = await findJob(c.var.db, c.req.valid('param').id, accountScope(c.var.principal));
    const now = c.var.services.now();
    const [reasons, factors, dependency] = await Promise.all([
      pendingReasons(c.var.db, [job]),
      priorityFactors(c.var.db, job, c.var.services.priority, now),
      showDependency(c.var.db, job),
    ]);
    return c.json(
      jobDetailView(job, now, withDependencyDetail(reasons.get(job.id), dependency), factors, dependency.remaining),
      200,
    );
  });
}
