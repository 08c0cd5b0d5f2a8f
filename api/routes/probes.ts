/**
 * Probes for load balancers and orchestrators, with no token: liveness (the process serves HTTP) and readiness (it
 * can serve requests: the database and the queue answer). Readiness names nothing of what failed: it is public.
 */
import { createRoute, z } from '@hono/zod-openapi';
import { sql } from 'drizzle-orm';
import type { App } from '../app-env.js';
import { answersWithin, PROBE_TIMEOUT_MS } from '../http/answers-within.js';
import { NotReady } from '../http/errors.js';
import { problemResponses } from '../http/problem.js';

const Probe = z.object({ status: z.literal('ok') }).openapi('Probe');

const livez = createRoute({
  method: 'get',
  path: '/livez',
  tags: ['Probes'],
  summary: 'Liveness, with no token',
  description: 'Answers 200 while the process serves HTTP; touches neither the database nor the queue.',
  responses: { 200: { description: 'Alive', content: { 'application/json': { schema: Probe } } } },
});

const readyz = createRoute({
  method: 'get',
  path: '/readyz',
  tags: ['Probes'],
  summary: 'Readiness, with no token',
  description: `Answers 200 when the database and the queue each answer within ${PROBE_TIMEOUT_MS / 1000} s, otherwise a 503 problem that says no more than that it is not ready.`,
  responses: {
    200: { description: 'Ready', content: { 'application/json': { schema: Probe } } },
    ...problemResponses(503),
  },
});

export function registerProbes(app: App): void {
  app.openapi(livez, (c) => c.json({ status: 'ok' } as const, 200));
  app.openapi(readyz, async (c) => {
    const { queue } = c.var.services;
    const answers = await Promise.all([
      answersWithin(() => c.var.db.execute(sql`SELECT 1`), PROBE_TIMEOUT_MS),
      // The one read every queue has; bounded by the number of partitions.
      answersWithin(() => queue.depth(), PROBE_TIMEOUT_MS),
    ]);
    if (answers.includes(false)) throw new NotReady();
    return c.json({ status: 'ok' } as const, 200);
  });
}
