import { createRoute, z } from '@hono/zod-openapi';
import type { App } from '../../../app-env.js';
import { requirePrincipal } from '../../../auth/require-principal.js';
import { holdArray, releaseArray } from '../../../jobs/array-holds.js';
import { holdJob, releaseJob } from '../../../jobs/hold-jobs.js';
import { jobTarget } from '../../../jobs/job-target.js';
import { emptyJsonBodyIsNone } from '../../../http/body-screen.js';
import { problemResponses } from '../../../http/problem.js';
import { jobView } from './job-view.js';
import { ArrayHoldResult, HoldRequest, HoldResult, JobIdParam } from './schema.js';

// One job's answer, or, for a job array's own id, the counts of its tasks.
const Answer = z.union([HoldResult, ArrayHoldResult]);

const ARRAYS =
  " A job array's id (its first task's) acts on every task of it still PENDING, as scontrol does, in one statement: each task changed gets its own event, tasks no longer PENDING are left alone, and the answer (ArrayHoldResult) counts the tasks; 409 when none is PENDING. An array task's id `123_7` acts on that task alone.";

const holdRoute = createRoute({
  method: 'post',
  path: '/v1/jobs/{id}/hold',
  tags: ['Jobs'],
  summary: 'Hold a PENDING job (scontrol hold)',
  description:
    "The job stays PENDING and is not started until released, as scontrol hold and uhold: reason JobHeldUser for a user token (its own account's jobs), JobHeldAdmin for an admin token (only an admin may release that), or JobHeldUser when the admin asks for a user's hold (`user_hold`, scontrol uhold). A user's hold leaves an admin's as it is; an admin's hold makes a user's an admin's, and an admin's user hold an admin's a user's. A wait the hold replaces (a begin time, a dependency) comes back at the release. Holding a held job changes nothing; a job that is not PENDING is a 409." +
    ARRAYS,
  security: [{ bearer: [] }],
  middleware: [requirePrincipal('admin', 'user'), emptyJsonBodyIsNone] as const,
  request: {
    params: JobIdParam,
    body: { required: false, content: { 'application/json': { schema: HoldRequest } } },
  },
  responses: {
    200: { description: 'What the hold did', content: { 'application/json': { schema: Answer } } },
    ...problemResponses(401, 403, 404, 409, 422),
  },
});

const releaseRoute = createRoute({
  method: 'post',
  path: '/v1/jobs/{id}/release',
  tags: ['Jobs'],
  summary: 'Release a held job (scontrol release)',
  description:
    "The job goes back to the wait its hold replaced (BeginTime while its begin time is to come, a dependency), else to the queue (reason Priority). A user token may release its own account's jobs held by a user (JobHeldUser), not an admin's hold (403). Releasing a job not held changes nothing; a job that is not PENDING is a 409. A user token releasing an array some task of which an admin holds is a 403, and nothing is released." +
    ARRAYS,
  security: [{ bearer: [] }],
  middleware: [requirePrincipal('admin', 'user')] as const,
  request: { params: JobIdParam },
  responses: {
    200: { description: 'What the release did', content: { 'application/json': { schema: Answer } } },
    ...problemResponses(401, 403, 404, 409, 422),
  },
});

export function registerHoldJob(app: App): void {
  app.openapi(holdRoute, async (c) => {
    const { services } = c.var;
    const target = await jobTarget(c.var.db, c.var.principal, c.req.valid('param').id);
    const { user_hold: userHold } = c.req.valid('json') ?? {};
    if ('array' in target) {
      const { effect, changed, unchanged } = await holdArray(c.var.db, services, c.var.principal, target.array, {
        userHold,
      });
      return c.json({ array_job_id: String(target.array), effect, array_tasks: { changed, unchanged } }, 200);
    }
    const { job, effect } = await holdJob(c.var.db, services, c.var.principal, target.job, { userHold });
    return c.json({ job: jobView(job, services.now()), effect }, 200);
  });
  app.openapi(releaseRoute, async (c) => {
    const { services } = c.var;
    const target = await jobTarget(c.var.db, c.var.principal, c.req.valid('param').id);
    if ('array' in target) {
      const { effect, changed, unchanged } = await releaseArray(c.var.db, services, c.var.principal, target.array);
      return c.json({ array_job_id: String(target.array), effect, array_tasks: { changed, unchanged } }, 200);
    }
    const { job, effect } = await releaseJob(c.var.db, services, c.var.principal, target.job);
    return c.json({ job: jobView(job, services.now()), effect }, 200);
  });
}
