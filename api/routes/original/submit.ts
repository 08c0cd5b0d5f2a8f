import { createRoute } from '@hono/zod-openapi';
import { SubmitRequest } from '../../../shared/job/submit-request.js';
import type { App } from '../../app-env.js';
import { requirePrincipal } from '../../auth/require-principal.js';
import { submitJob } from '../../jobs/submit-job.js';
import { problemResponses } from '../../http/problem.js';
import { SubmitResponse } from './schema.js';

const route = createRoute({
  method: 'post',
  path: '/jobs/submit',
  tags: ['Original'],
  summary: 'Submit a job (original path)',
  security: [{ bearer: [] }],
  middleware: [requirePrincipal('admin', 'user')] as const,
  request: { body: { required: true, content: { 'application/json': { schema: SubmitRequest } } } },
  responses: {
    201: { description: 'The new job id', content: { 'application/json': { schema: SubmitResponse } } },
    ...problemResponses(400, 401, 403, 413, 422),
  },
});

export function registerOriginalSubmit(app: App): void {
  app.openapi(route, async (c) => {
    const job = await submitJob(c.var.db, c.var.services, c.var.principal, c.req.valid('json'));
    return c.json({ job_id: String(job.id) }, 201);
  });
}
