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

const route = createRoute({
  method: 'get',
  path: '/v1/stats',
  tags: ['Stats'],
  summary: 'Exact job counts per state and partition',
  description: "A user token counts its own account's jobs.",
  security: [{ bearer: [] }],
  middleware: [requirePrincipal('admin', 'user')] as const,
  responses: {
    200: { description: 'The counts', content: { 'application/json': { schema: Stats } } },
    ...problemResponses(401, 403),
  },
});

export function registerStats(app: App): void {
  app.openapi(route, async (c) => {
    const counts = await countJobs(c.var.db, accountScope(c.var.principal));
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
