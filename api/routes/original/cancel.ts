import { createRoute } from '@hono/zod-openapi';
import type { App } from '../../app-env.js';
import { accountScope, actorName } from '../../auth/principal.js';
import { requirePrincipal } from '../../auth/require-principal.js';
import { cancelArray } from '../../jobs/cancel-array.js';
import { cancelJob, type CancelEffect } from '../../jobs/cancel-job.js';
import { jobTarget } from '../../jobs/job-target.js';
import { pushOwedRefs } from '../../jobs/push-not-enqueued.js';
import { InvalidTransition } from '../../http/errors.js';
import { originalValidationResponse, problemResponses } from '../../http/problem.js';
import { originalJobId, OriginalJobIdParam, originalPath } from './original-path.js';
import { CancelResponse } from './schema.js';

// The original's one answer (api/routers/jobs.py), whatever the cancel did: "cancelled successfully".
const ORIGINAL_MESSAGE = '取消成功';

const route = createRoute({
  method: 'post',
  path: '/jobs/cancel/{job_id}',
  tags: ['Original'],
  summary: 'Cancel a job (original path)',
  description:
    'Idempotent, as the original: a job that has already ended is answered 200 too (effect "none"), where /v1 answers 409. A job array\'s id (its first task\'s) cancels every unfinished task of the array, as /v1 and scancel do (effect "cancelled" when a PENDING task was cancelled, else "cancel_requested" when a RUNNING one was marked, else "none").',
  security: [{ bearer: [] }],
  middleware: [originalPath, requirePrincipal('admin', 'user')] as const,
  request: { params: OriginalJobIdParam },
  responses: {
    200: { description: 'What happened', content: { 'application/json': { schema: CancelResponse } } },
    ...problemResponses(401, 403, 404),
    ...originalValidationResponse,
  },
});

export function registerOriginalCancel(app: App): void {
  app.openapi(route, async (c) => {
    const { db, principal, services } = c.var;
    const [actor, scope] = [actorName(principal), accountScope(principal)];
    const target = await jobTarget(db, principal, String(originalJobId(c.req.valid('param').job_id)));
    if ('array' in target) {
      const { effect, cancelled } = await cancelArray(db, services, target.array, actor, scope);
      // Jobs depending on its tasks (afterany, after) may be settled now: released, pushed now, as on /v1.
      if (cancelled > 0) await pushOwedRefs(db, services);
      return c.json({ msg: ORIGINAL_MESSAGE, effect }, 200);
    }
    const effect = await cancelJob(db, services, target.job, actor, scope).then(
      (result): CancelEffect => result.effect,
      (error: Error) => {
        if (error instanceof InvalidTransition) return 'none' as const;
        throw error;
      },
    );
    // A cancelled job may have settled jobs depending on it (afterany, after): released, pushed now, as on /v1.
    if (effect === 'cancelled') await pushOwedRefs(db, services);
    return c.json({ msg: ORIGINAL_MESSAGE, effect }, 200);
  });
}
