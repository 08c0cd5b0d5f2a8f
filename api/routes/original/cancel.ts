import { createRoute } from '@hono/zod-openapi';
import type { App } from '../../app-env.js';
import { accountScope, actorName } from '../../auth/principal.js';
import { requirePrincipal } from '../../auth/require-principal.js';
import { cancelJob, type CancelEffect } from '../../jobs/cancel-job.js';
import { problemResponses } from '../../http/problem.js';
import { CancelResponse, OriginalJobIdParam } from './schema.js';

const route = createRoute({
  method: 'post',
  path: '/jobs/cancel/{job_id}',
  tags: ['Original'],
  summary: 'Cancel a job (original path)',
  description: 'Idempotent, as POST /v1/jobs/{id}/cancel.',
  security: [{ bearer: [] }],
  middleware: [requirePrincipal('admin', 'user')] as const,
  request: { params: OriginalJobIdParam },
  responses: {
    200: { description: 'What happened', content: { 'application/json': { schema: CancelResponse } } },
    ...problemResponses(401, 403, 404, 409, 422),
  },
});

const MESSAGES: Record<CancelEffect, (id: string) => string> = {
  cancelled: (id) => `Job ${id} cancelled`,
  cancel_requested: (id) => `Job ${id} is running; its node has been asked to cancel it`,
  none: (id) => `Job ${id} was already cancelled or being cancelled`,
};

export function registerOriginalCancel(app: App): void {
  app.openapi(route, async (c) => {
    const id = c.req.valid('param').job_id;
    const { effect } = await cancelJob(
      c.var.db,
      c.var.services.queue,
      Number(id),
      actorName(c.var.principal),
      accountScope(c.var.principal),
    );
    return c.json({ msg: MESSAGES[effect](id) }, 200);
  });
}
