import { createRoute } from '@hono/zod-openapi';
import type { App } from '../../../app-env.js';
import { requirePrincipal } from '../../../auth/require-principal.js';
import { holdJob, releaseJob } from '../../../jobs/hold-jobs.js';
import { singleJobId } from '../../../jobs/single-job-id.js';
import { problemResponses } from '../../../http/problem.js';
import { jobView } from './job-view.js';
import { HoldRequest, HoldResult, JobIdParam } from './schema.js';

const holdRoute = createRoute({
  method: 'post',
  path: '/v1/jobs/{id}/hold',
  tags: ['Jobs'],
  summary: 'Hold a PENDING job (scontrol hold)',
  description:
    "The job stays PENDING and is not started until released, as scontrol hold and uhold: reason JobHeldUser for a user token (its own account's jobs), JobHeldAdmin for an admin token (only an admin may release that), or JobHeldUser when the admin asks for a user's hold (`user_hold`, scontrol uhold). A user's hold leaves an admin's as it is; an admin's hold makes a user's an admin's, and an admin's user hold an admin's a user's. A wait the hold replaces (a begin time, a dependency) comes back at the release. Holding a held job changes nothing; a job that is not PENDING is a 409.",
  security: [{ bearer: [] }],
  middleware: [requirePrincipal('admin', 'user')] as const,
  request: {
    params: JobIdParam,
    body: { required: false, content: { 'application/json': { schema: HoldRequest } } },
  },
  responses: {
    200: { description: 'What the hold did', content: { 'application/json': { schema: HoldResult } } },
    ...problemResponses(401, 403, 404, 409, 422),
  },
});

const releaseRoute = createRoute({
  method: 'post',
  path: '/v1/jobs/{id}/release',
  tags: ['Jobs'],
  summary: 'Release a held job (scontrol release)',
  description:
    "The job goes back to the wait its hold replaced (BeginTime while its begin time is to come, a dependency), else to the queue (reason Priority). A user token may release its own account's jobs held by a user (JobHeldUser), not an admin's hold (403). Releasing a job not held changes nothing; a job that is not PENDING is a 409.",
  security: [{ bearer: [] }],
  middleware: [requirePrincipal('admin', 'user')] as const,
  request: { params: JobIdParam },
  responses: {
    200: { description: 'What the release did', content: { 'application/json': { schema: HoldResult } } },
    ...problemResponses(401, 403, 404, 409, 422),
  },
});

export function registerHoldJob(app: App): void {
  app.openapi(holdRoute, async (c) => {
    const { services } = c.var;
    const id = await singleJobId(c.var.db, c.var.principal, c.req.valid('param').id, 'hold');
    const { user_hold: userHold } = c.req.valid('json') ?? {};
    const { job, effect } = await holdJob(c.var.db, services, c.var.principal, id, { userHold });
    return c.json({ job: jobView(job, services.now()), effect }, 200);
  });
  app.openapi(releaseRoute, async (c) => {
    const { services } = c.var;
    const id = await singleJobId(c.var.db, c.var.principal, c.req.valid('param').id, 'release');
    const { job, effect } = await releaseJob(c.var.db, services, c.var.principal, id);
    return c.json({ job: jobView(job, services.now()), effect }, 200);
  });
}
