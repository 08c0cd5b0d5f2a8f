import { createRoute } from '@hono/zod-openapi';
import type { App } from '../../../app-env.js';
import { accountScope } from '../../../auth/principal.js';
import { requirePrincipal } from '../../../auth/require-principal.js';
import { findJob } from '../../../jobs/find-job.js';
import { latestRunUsage } from '../../../jobs/run-usage.js';
import { pendingReasons } from '../../../jobs/pending-reasons.js';
import { priorityFactors } from '../../../priority/priority-factors.js';
import { jobDetailView } from './job-view.js';
import { showDependency, withDependencyDetail } from '../../../jobs/dependencies/dependency-view.js';
import { problemResponses } from '../../../http/problem.js';
import { waitForJobState } from '../../../jobs/wait-for-job-state.js';
import { JobDetail, JobIdParam, JobWaitQuery } from './schema.js';

const route = createRoute({
  method: 'get',
  path: '/v1/jobs/{id}',
  tags: ['Jobs'],
  summary: 'Get a job',
  security: [{ bearer: [] }],
  middleware: [requirePrincipal('admin', 'user')] as const,
  description:
    'With `wait`, a long poll: the answer comes when the job is in one of those states, or after `timeout` seconds (at most 60) with the job as it is then.',
  request: { params: JobIdParam, query: JobWaitQuery },
  responses: {
    200: {
      description:
        'The job, with its script and environment, while PENDING its priority factors (as sprio -l), and once a run of it ended what that run used and its efficiency (as seff)',
      content: { 'application/json': { schema: JobDetail } },
    },
    ...problemResponses(401, 403, 404, 422),
  },
});

export function registerGetJob(app: App): void {
  app.openapi(route, async (c) => {
    const { wait, timeout } = c.req.valid('query');
    const load = () => findJob(c.var.db, c.req.valid('param').id, accountScope(c.var.principal));
    const { events, closing } = c.var.services;
    const job = wait
      ? await waitForJobState({
          load,
          states: wait,
          timeoutMs: timeout * 1000,
          hub: events.hub,
          pollMs: events.pollMs,
          closing,
        })
      : await load();
    const now = c.var.services.now();
    const [reasons, factors, dependency, usage] = await Promise.all([
      pendingReasons(c.var.db, [job]),
      priorityFactors(c.var.db, job, c.var.services.priority, now),
      showDependency(c.var.db, job),
      latestRunUsage(c.var.db, [job.id]),
    ]);
    const pending = withDependencyDetail(reasons.get(job.id), dependency);
    return c.json(jobDetailView(job, now, pending, factors, dependency.remaining, usage.get(job.id)), 200);
  });
}
