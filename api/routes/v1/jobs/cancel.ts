import { createRoute } from '@hono/zod-openapi';
import type { App } from '../../../app-env.js';
import { accountScope, actorName } from '../../../auth/principal.js';
import { requirePrincipal } from '../../../auth/require-principal.js';
import { cancelArray } from '../../../jobs/cancel-array.js';
import { cancelJob } from '../../../jobs/cancel-job.js';
import { findJob } from '../../../jobs/find-job.js';
import { pushOwedRefs } from '../../../jobs/push-not-enqueued.js';
import { jobView } from './job-view.js';
import { problemResponses } from '../../../http/problem.js';
import { CancelResult, JobIdParam } from './schema.js';

const route = createRoute({
  method: 'post',
  path: '/v1/jobs/{id}/cancel',
  tags: ['Jobs'],
  summary: 'Cancel a job',
  description:
    "Idempotent. A PENDING job is CANCELLED at once; a RUNNING job is marked and its node ends it. A job that already ended otherwise is a 409. A job array's id (its first task's) cancels every unfinished task of the array, as scancel does (`array_tasks` counts them); an array task's id `123_7` cancels that task alone.",
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
    const { db, services } = c.var;
    const id = c.req.valid('param').id;
    const [actor, scope] = [actorName(c.var.principal), accountScope(c.var.principal)];
    const target = await findJob(db, id, scope);
    // An array's id (not one task's 123_7) names the whole array, as in scancel.
    if (!id.includes('_') && target.arrayJobId === target.id) {
      const { job, effect, cancelled, cancelRequested } = await cancelArray(db, services, target.id, actor, scope);
      // Jobs depending on its tasks (afterany, after) may be settled now: released, their refs pushed.
      if (cancelled > 0) await pushOwedRefs(db, services);
      const array_tasks = { cancelled, cancel_requested: cancelRequested };
      return c.json({ job: jobView(job, services.now()), effect, array_tasks }, 200);
    }
    const { job, effect } = await cancelJob(db, services, target.id, actor, scope);
    // A cancelled job may have settled jobs depending on it (afterany, after), and a task of a capped array that
    // waited made room for the next: released, their refs pushed now.
    if (effect === 'cancelled') await pushOwedRefs(db, services);
    return c.json({ job: jobView(job, services.now()), effect, array_tasks: null }, 200);
  });
}
