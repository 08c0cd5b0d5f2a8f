import { createRoute } from '@hono/zod-openapi';
import { parseOriginalTimeLimit } from '../../../shared/job/original-time-limit.js';
import type { App } from '../../app-env.js';
import { requirePrincipal } from '../../auth/require-principal.js';
import { submitJob } from '../../jobs/submit-job.js';
import { originalValidationResponse, problemResponses } from '../../http/problem.js';
import { ignoredFieldWarnings } from './ignored-fields.js';
import { originalPath } from './original-path.js';
import { OriginalSubmitRequest, SubmitResponse } from './schema.js';

const route = createRoute({
  method: 'post',
  path: '/jobs/submit',
  tags: ['Original'],
  summary: 'Submit a job (original path)',
  description:
    'The original body, read as the original read it: time_limit "1:30" is an hour and a half (on /v1, Slurm\'s 90 seconds), "0" is no limit, and fields it does not know are ignored (named in the job\'s warnings, which /v1 shows).',
  security: [{ bearer: [] }],
  middleware: [originalPath, requirePrincipal('admin', 'user')] as const,
  request: { body: { required: true, content: { 'application/json': { schema: OriginalSubmitRequest } } } },
  responses: {
    201: { description: 'The new job id', content: { 'application/json': { schema: SubmitResponse } } },
    ...problemResponses(400, 401, 403, 413),
    ...originalValidationResponse,
  },
});

export function registerOriginalSubmit(app: App): void {
  app.openapi(route, async (c) => {
    const body = c.req.valid('json');
    const job = await submitJob(c.var.db, c.var.services, c.var.principal, body, {
      timeLimit: (value) => parseOriginalTimeLimit(String(value)),
      warnings: ignoredFieldWarnings(body),
    });
    return c.json({ job_id: String(job.id) }, 201);
  });
}
