import { createRoute } from '@hono/zod-openapi';
import { SubmitRequest } from '../../../../shared/job/submit-request.js';
import type { App } from '../../../app-env.js';
import { requirePrincipal } from '../../../auth/require-principal.js';
import { jobView } from './job-view.js';
import { submitJob } from '../../../jobs/submit-job.js';
import { problemResponses } from '../../../http/problem.js';
import { Job } from './schema.js';

const route = createRoute({
  method: 'post',
  path: '/v1/jobs',
  tags: ['Jobs'],
  summary: 'Submit a job',
  description: 'The body is the original SCNS-Conductor submit body. The job is PENDING when this answers.',
  security: [{ bearer: [] }],
  middleware: [requirePrincipal('admin', 'user')] as const,
  request: { body: { required: true, content: { 'application/json': { schema: SubmitRequest } } } },
  responses: {
    201: {
      description: 'The job as stored, without the script and environment just sent (GET the job for those)',
      content: { 'application/json': { schema: Job } },
    },
    ...problemResponses(400, 401, 403, 413, 422),
  },
});

export function registerSubmitJob(app: App): void {
  app.openapi(route, async (c) => {
    const job = await submitJob(c.var.db, c.var.services, c.var.principal, c.req.valid('json'));
    return c.json(jobView(job), 201, { Location: `/v1/jobs/${job.id}` });
  });
}
