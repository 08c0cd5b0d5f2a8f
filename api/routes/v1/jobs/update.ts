import { createRoute, z } from '@hono/zod-openapi';
import type { App } from '../../../app-env.js';
import { requirePrincipal } from '../../../auth/require-principal.js';
import { jobTarget } from '../../../jobs/job-target.js';
import { updateArray } from '../../../jobs/update-array.js';
import { updateJob } from '../../../jobs/update-job.js';
import { problemResponses } from '../../../http/problem.js';
import { jobView } from './job-view.js';
import { ArrayUpdateResult, JobIdParam, UpdateJobRequest, UpdateJobResult } from './schema.js';

const route = createRoute({
  method: 'patch',
  path: '/v1/jobs/{id}',
  tags: ['Jobs'],
  summary: 'Update a PENDING job (scontrol update)',
  description:
    "Changes a PENDING job's time_limit, nice, partition, name or begin time, as `scontrol update` does. A user token (its own account's jobs) may only lower the time limit and raise the nice; an admin may set any time limit within the partition's maximum, and any nice. A new partition must take the job as at submit. A bad value is a 422 naming its field, and nothing is changed; a job that is not PENDING is a 409. The change is an event of kind `update` in GET /v1/jobs/{id}/events. A job array's id (its first task's) updates every task of it still PENDING, as scontrol does, in one statement: each task is checked as one job is (any refusal refuses all, and nothing changes), each task changed gets its own event, tasks no longer PENDING are left alone, and the answer (ArrayUpdateResult) counts the tasks; 409 when none is PENDING. An array task's id `123_7` updates that task alone.",
  security: [{ bearer: [] }],
  middleware: [requirePrincipal('admin', 'user')] as const,
  request: {
    params: JobIdParam,
    body: { required: true, content: { 'application/json': { schema: UpdateJobRequest } } },
  },
  responses: {
    200: {
      description: "The job as updated, or an array's task counts",
      content: { 'application/json': { schema: z.union([UpdateJobResult, ArrayUpdateResult]) } },
    },
    ...problemResponses(400, 401, 403, 404, 409, 422),
  },
});

export function registerUpdateJob(app: App): void {
  app.openapi(route, async (c) => {
    const { services } = c.var;
    const target = await jobTarget(c.var.db, c.var.principal, c.req.valid('param').id);
    if ('array' in target) {
      const tasks = await updateArray(c.var.db, services, c.var.principal, target.array, c.req.valid('json'));
      return c.json({ array_job_id: String(target.array), array_tasks: tasks }, 200);
    }
    const { job, changes } = await updateJob(c.var.db, services, c.var.principal, target.job, c.req.valid('json'));
    return c.json({ job: jobView(job, services.now()), changes }, 200);
  });
}
