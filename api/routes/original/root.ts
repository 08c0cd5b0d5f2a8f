import { createRoute } from '@hono/zod-openapi';
import { OPENAPI_INFO } from '../../api-info.js';
import type { App } from '../../app-env.js';
import { OriginalRoot } from './schema.js';

const route = createRoute({
  method: 'get',
  path: '/',
  tags: ['Original'],
  summary: 'What this service is, as the original answered it, with no token',
  responses: {
    200: { description: 'The service', content: { 'application/json': { schema: OriginalRoot } } },
  },
});

export function registerRoot(app: App): void {
  app.openapi(route, (c) =>
    c.json({ service: 'SCNS-Conductor API', version: OPENAPI_INFO.version, status: 'running' } as const, 200),
  );
}
