import { createRoute, z } from '@hono/zod-openapi';
import { JOB_STATES } from '../../../shared/job/job-state.js';
import type { App } from '../../app-env.js';
import { accountScope } from '../../auth/principal.js';
import { requirePrincipal } from '../../auth/require-principal.js';
import { countJobs, summarize } from '../../jobs/count-jobs.js';
import { problemResponses } from '../../http/problem.js';

const StateCounts = z.record(z.enum(JOB_STATES), z.number().int()).openapi('StateCounts');

const Stats = z
  .object({
    total: z.number().int(),
    by_state: StateCounts,
    partitions: z.array(z.object({ partition: z.string(), total: z.number().int(), by_state: StateCounts })),
  })
  .openapi('Stats');

const StatsQuery = z.object({
  expand_arrays: z.enum(['true', 'false', '1', '0']).default('true').openapi({
    description:
      "The listing's switch (GET /v1/jobs), with the opposite default so that the counts stay what they were: true (the default) counts every task of a job array; false counts an array's PENDING tasks as one entry, as the listing shows them by default (its tasks that run or ended count one each).",
  }),
});

const route = createRoute({
  method: 'get',
  path: '/v1/stats',
  tags: ['Stats'],
  summary: 'Exact job counts per state and partition',
  description:
    "A user token counts its own account's jobs. Each job array task is a job and counts, unless expand_arrays=false.",
  security: [{ bearer: [] }],
  middleware: [requirePrincipal('admin', 'user')] as const,
  request: { query: StatsQuery },
  responses: {
    200: { description: 'The counts', content: { 'application/json': { schema: Stats } } },
    ...problemResponses(401, 403, 422),
  },
});

export function registerStats(app: App): void {
  app.openapi(route, async (c) => {
    const { expand_arrays: expand } = c.req.valid('query');
    const counts = await countJobs(c.var.db, accountScope(c.var.principal), {
      collapseArrays: expand === 'false' || expand === '0',
    });
    const partitions = [...new Set(counts.map((row) => row.partition))].sort();
    return c.json(
      {
        ...summarize(counts),
        partitions: partitions.map((partition) => ({
          partition,
          ...summarize(counts.filter((row) => row.partition === partition)),
        })),
      },
      200,
    );
  });
}
