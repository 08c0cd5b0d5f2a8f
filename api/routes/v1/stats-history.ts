import { createRoute, z } from '@hono/zod-openapi';
import { identifier } from '../../../shared/names.js';
import type { App } from '../../app-env.js';
import { accountScope } from '../../auth/principal.js';
import { requirePrincipal } from '../../auth/require-principal.js';
import { problemResponses } from '../../http/problem.js';
import { FINISHED_STATES, HISTORY_WINDOWS, readUtilisationHistory } from '../../stats/utilisation-history.js';

const HistoryQuery = z.object({
  window: z
    .enum(Object.keys(HISTORY_WINDOWS) as ['hour', 'day'])
    .default('hour')
    .openapi({ description: 'hour: 60 one-minute steps; day: 288 five-minute steps.' }),
  partition: identifier('partition').optional(),
  account: identifier('account').optional(),
});

const series = z.array(z.number().nullable());
const perPartition = z.record(z.string(), series);

const UtilisationHistory = z
  .object({
    window: z.enum(['hour', 'day']),
    step_seconds: z.number().int(),
    times: z.array(z.number().int()).openapi({ description: "Each step's start, unix seconds, oldest first." }),
    partitions: z.array(z.string()),
    cpus_allocated: perPartition.openapi({
      description: "CPUs held by RUNNING jobs, per partition (the token's account's).",
    }),
    cpus_total: perPartition.openapi({
      description: "CPUs of the partition's nodes not DOWN: the cluster's, whatever the token's account.",
    }),
    pending: series,
    running: series,
    finished: z
      .object(
        Object.fromEntries(FINISHED_STATES.map((state) => [state, series])) as Record<
          (typeof FINISHED_STATES)[number],
          typeof series
        >,
      )
      .openapi({ description: 'Jobs that ended in each step, by end state (from their end times: exact).' }),
    median_wait_seconds: series.openapi({
      description: 'The median wait (start − submit) of the jobs started in each step; null when none started.',
    }),
  })
  .openapi('UtilisationHistory', {
    description:
      'Columns for a chart: every array as long as `times`; null where no sample was taken (a gap, not a zero). Gauges of a 5-minute step are the mean of its sampled minutes.',
  });

const route = createRoute({
  method: 'get',
  path: '/v1/stats/history',
  tags: ['Stats'],
  summary: 'Utilisation over the last hour or day, as chart columns',
  description:
    "Sampled once a minute by the reconciler, kept 8 days. A user token's figures are its own account's jobs; CPU capacity is the cluster's.",
  security: [{ bearer: [] }],
  middleware: [requirePrincipal('admin', 'user')] as const,
  request: { query: HistoryQuery },
  responses: {
    200: { description: 'The history', content: { 'application/json': { schema: UtilisationHistory } } },
    ...problemResponses(401, 403, 422),
  },
});

export function registerStatsHistory(app: App): void {
  app.openapi(route, async (c) => {
    const query = c.req.valid('query');
    const scope = accountScope(c.var.principal);
    // A user naming another account gets both conditions, so no job's figures: as if it had none.
    const accounts = [scope, query.account].filter((account) => account !== undefined);
    const history = await readUtilisationHistory(
      c.var.db,
      query.window,
      { partition: query.partition, accounts },
      c.var.services.now(),
    );
    return c.json(history, 200);
  });
}
