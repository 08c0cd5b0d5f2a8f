import { createRoute, z } from '@hono/zod-openapi';
import { asc, eq } from 'drizzle-orm';
import { jobEvents } from '../../../../shared/db/schema.js';
import type { App } from '../../../app-env.js';
import { accountScope } from '../../../auth/principal.js';
import { requirePrincipal } from '../../../auth/require-principal.js';
import { findJob } from '../../../jobs/find-job.js';
import { problemResponses } from '../../../http/problem.js';
import { jobEventView } from './job-view.js';
import { JobEvent, JobIdParam } from './schema.js';

const route = createRoute({
  method: 'get',
  path: '/v1/jobs/{id}/events',
  tags: ['Jobs'],
  summary: "A job's history: every transition, oldest first",
  security: [{ bearer: [] }],
  middleware: [requirePrincipal('admin', 'user')] as const,
  request: { params: JobIdParam },
  responses: {
    200: {
      description: 'The events',
      content: { 'application/json': { schema: z.object({ events: z.array(JobEvent) }) } },
    },
    ...problemResponses(401, 403, 404, 422),
  },
});

export function registerJobEvents(app: App): void {
  app.openapi(route, async (c) => {
    const { db } = c.var;
    const job = await findJob(db, c.req.valid('param').id, accountScope(c.var.principal));
    const rows = await db.select().from(jobEvents).where(eq(jobEvents.jobId, job.id)).orderBy(asc(jobEvents.id));
    return c.json({ events: rows.map(jobEventView) }, 200);
  });
}
