import { createRoute, z } from '@hono/zod-openapi';
import { sql } from 'drizzle-orm';
import type { App } from '../../app-env.js';
import { requirePrincipal } from '../../auth/require-principal.js';
import { DatabaseUnavailable } from '../../http/errors.js';
import { problemResponses } from '../../http/problem.js';

// A health check that waits as long as a stuck database would tell a load balancer nothing in time.
const DATABASE_CHECK_TIMEOUT_MS = 2000;

const route = createRoute({
  method: 'get',
  path: '/health',
  tags: ['Original'],
  summary: 'Health: answers 200 only when the database answers a query',
  description: 'Like every original path it needs a token; any kind will do, so a probe can use a node token.',
  security: [{ bearer: [] }],
  middleware: [requirePrincipal('admin', 'user', 'node')] as const,
  responses: {
    200: {
      description: 'Healthy',
      content: { 'application/json': { schema: z.object({ status: z.literal('ok'), database: z.literal('ok') }) } },
    },
    ...problemResponses(401, 503),
  },
});

export function registerHealth(app: App): void {
  app.openapi(route, async (c) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new DatabaseUnavailable()), DATABASE_CHECK_TIMEOUT_MS);
    });
    try {
      await Promise.race([c.var.db.execute(sql`SELECT 1`), timeout]);
    } catch {
      throw new DatabaseUnavailable();
    } finally {
      clearTimeout(timer);
    }
    return c.json({ status: 'ok' as const, database: 'ok' as const }, 200);
  });
}
