import { createRoute } from '@hono/zod-openapi';
import type { App } from '../../../app-env.js';
import { requirePrincipal } from '../../../auth/require-principal.js';
import { singleJobId } from '../../../jobs/single-job-id.js';
import { updateJob } from '../../../jobs/update-job.js';
import { problemResponses } from '../../../http/problem.js';
import { jobView } from './job-view.js';
import { JobIdParam, UpdateJobRequest, UpdateJobResult } from './schema.js';

const route = createRoute({
  method: 'patch',
  path: '/v1/jobs/{id}',
  tags: ['Jobs'],
  summary: 'Update a PENDING job (scontrol update)',
  description:
    "Changes a PENDING job's time_limit, nice, partition, name or begin time, as `scontrol update` does. A user token (its own account's jobs) may only lower the time limit and raise the nice; an admin may set any time limit within the partition's maximum, and any nice. A new partition must take the job as at submit. A bad value is a 422 naming its field, and nothing is changed; a job that is not PENDING is a 409. The change is an event of kind `update` in GET /v1/jobs/{id}/events.",
  security: [{ bearer: [] }],
  middleware: [requirePrincipal('admin', 'user')] as const,
  request: {
    params: JobIdParam,
    body: { required: true, content: { 'application/json': { schema: UpdateJobRequest } } },
  },
  responses: {
    200: { description: 'The job as updated', content: { 'application/json': { schema: UpdateJobResult } } },
    ...problemResponses(400, 401, 403, 404, 409, 422),
  },
});

export function registerUpdateJob(app: App): void {
  app.openapi(route, async (c) => {
    const { services } = c.var;
    const id = await singleJobId(c.var.db, c.var.principal, c.req.valid('param').id, 'update');
    const { job, changes } = await updateJob(c.var.db, services, c.var.principal, id, c.req.valid('json'));
    return c.json({ job: jobView(job, services.now()), changes }, 200);
  });
}
