import { createRoute, type z } from '@hono/zod-openapi';
import { formatMemorySize } from '../../../../shared/job/memory-size.js';
import { formatTimeLimit } from '../../../../shared/job/time-limit.js';
import type { App } from '../../../app-env.js';
import { accountScope } from '../../../auth/principal.js';
import { requirePrincipal } from '../../../auth/require-principal.js';
import { displayId } from '../../../jobs/array-task-view.js';
import { findJob } from '../../../jobs/find-job.js';
import { explainPending, type WhyPending as Explained } from '../../../jobs/why/explain-pending.js';
import { JobNotPending } from '../../../http/errors.js';
import { problemResponses } from '../../../http/problem.js';
import { JobIdParam } from './schema.js';
import { ANOTHER_ACCOUNT, WhyPending } from './why-schema.js';

const route = createRoute({
  method: 'get',
  path: '/v1/jobs/{id}/why',
  tags: ['Jobs'],
  summary: 'Why is a job pending?',
  description:
    "For a PENDING job: its reason, its place in its partition's queue and the jobs ahead, every node of its partition with why it cannot start there now, the account limit that holds it, and its expected start (squeue --start). A user token sees its own account's jobs only, and the jobs ahead of other accounts without name, user or account. A job that is not PENDING is a 409 (job_not_pending) naming its state.",
  security: [{ bearer: [] }],
  middleware: [requirePrincipal('admin', 'user')] as const,
  request: { params: JobIdParam },
  responses: {
    200: { description: 'Why it waits', content: { 'application/json': { schema: WhyPending } } },
    ...problemResponses(401, 403, 404, 409, 422),
  },
});

export function registerWhyJob(app: App): void {
  app.openapi(route, async (c) => {
    const scope = accountScope(c.var.principal);
    const job = await findJob(c.var.db, c.req.valid('param').id, scope);
    if (job.state !== 'PENDING') throw new JobNotPending(displayId(job), job.state);
    const explained = await explainPending(c.var.db, job, c.var.services.now().getTime());
    return c.json(whyView(explained, scope), 200);
  });
}

/** The answer; `scope`: the caller's account (undefined: an admin, who sees every account). */
function whyView(why: Explained, scope: string | undefined): z.infer<typeof WhyPending> {
  const iso = (at: number | null) => (at === null ? null : new Date(at).toISOString());
  return {
    job_id: String(why.job.id),
    state: 'PENDING',
    partition: why.job.partition,
    reason: why.reason.reason,
    reason_detail: why.reason.detail,
    queue: {
      position: why.position,
      ahead: why.aheadCount,
      jobs_ahead: why.ahead.map((ahead) => {
        const visible = scope === undefined || ahead.account === scope;
        return {
          id: String(ahead.id),
          priority: ahead.priority,
          cpus: ahead.cpus,
          memory_per_node: formatMemorySize(ahead.memoryMb),
          time_limit: formatTimeLimit(ahead.timeLimitSeconds),
          owner: visible ? ahead.account : ANOTHER_ACCOUNT,
          name: visible ? ahead.name : null,
          user: visible ? ahead.user : null,
        };
      }),
    },
    nodes: why.nodes.map((verdict) => ({
      name: verdict.node,
      state: verdict.state,
      verdict: verdict.verdict,
      detail: verdict.detail,
      cpus: verdict.cpus,
      memory_mb: verdict.memoryMb,
      free_cpus: verdict.freeCpus,
      free_memory_mb: verdict.freeMemoryMb,
      frees_at: iso(verdict.freesAt),
    })),
    account_limit:
      why.accountLimit === null
        ? null
        : {
            reason: why.accountLimit.reason,
            limit: why.accountLimit.limit,
            in_use: why.accountLimit.inUse,
            unit: why.accountLimit.unit,
          },
    expected_start: {
      time: iso(why.expectedStart.at),
      node: why.expectedStart.node,
      note: why.expectedStart.note,
      simulated_jobs_ahead: why.expectedStart.simulatedAhead,
      capped: why.expectedStart.capped,
    },
  };
}
