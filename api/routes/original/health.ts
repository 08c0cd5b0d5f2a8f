import { createRoute } from '@hono/zod-openapi';
import { sql } from 'drizzle-orm';
import type { App } from '../../app-env.js';
import { answersWithin, PROBE_TIMEOUT_MS } from '../../http/answers-within.js';
import { OriginalHealth, OriginalUnhealthy } from './schema.js';

const route = createRoute({
  method: 'get',
  path: '/health',
  tags: ['Original'],
  summary: 'Health, as the original answered it, with no token',
  description:
    'Load balancers and uptime probes send no token, as with the original. Unlike the original, it answers 503 when the database does not answer a query within 2 s; it says nothing more.',
  responses: {
    200: { description: 'Healthy', content: { 'application/json': { schema: OriginalHealth } } },
    503: { description: 'The database did not answer', content: { 'application/json': { schema: OriginalUnhealthy } } },
  },
});

export function registerHealth(app: App): void {
  app.openapi(route, async (c) => {
    if (!(await answersWithin(() => c.var.db.execute(sql`SELECT 1`), PROBE_TIMEOUT_MS))) {
      return c.json(
        { status: 'unhealthy', service: 'scns-conductor-api', error: 'the database did not answer' } as const,
        503,
      );
    }
    return c.json({ status: 'healthy', service: 'scns-conductor-api' } as const, 200);
  });
}
