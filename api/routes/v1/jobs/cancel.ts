import { pushOwedRefs } from '../../../jobs/push-not-enqueued.js';
import { createRoute } from '@hono/zod-openapi';
import type { App } from '../../../app-env.js';
import { accountScope, actorName } from '../../../auth/principal.js';
import { requirePrincipal } from '../../../auth/require-principal.js';
import { cancelJob } from '../../../jobs/cancel-job.js';
import { jobView } from './job-view.js';
import { problemResponses } from '../../../http/problem.js';
import { CancelResult, JobIdParam } from './schema.js';

const route = createRoute({
  method: 'post',
  path: '/v1/jobs/{id}/cancel',
  tags: ['Jobs'],
  summary: 'Cancel a job',
  description:
    'Idempotent. A PENDING job is CANCELLED at once; a RUNNING job is marked and its node ends it. A job that already ended otherwise is a 409.',
  security: [{ bearer: [] }],
  middleware: [requirePrincipal('admin', 'user')] as const,
  request: { params: JobIdParam },
  responses: {
    200: { description: 'What the cancel did', content: { 'application/json': { schema: CancelResult } } },
    ...problemResponses(401, 403, 404, 409, 422),
  },
});

export function registerCancelJob(app: App): void {
  app.openapi(route, async (c) => {
    const { job, effect } = await cancelJob(
      c.var.db,
      c.var.services.queue,
      Number(c.req.valid('param').id),
      actorName(c.var.principal),
      accountScope(c.var.principal),
    );
    // A cancelled job may have settled jobs depending on it (afterany, after): released, pushed now.
    if (effect === 'cancelled') await pushOwedRefs(c.var.db, c.var.services);
    return c.json({ job: jobView(job, c.var.services.now()), effect }, 200);
  });
}
