import { createRoute } from '@hono/zod-openapi';
import type { App } from '../../../app-env.js';
import { requirePrincipal } from '../../../auth/require-principal.js';
import { problemResponses } from '../../../http/problem.js';
import { findPartitionWithNodes } from '../../../partitions/partition-store.js';
import { Partition, PartitionParam, partitionView } from './schema.js';

const route = createRoute({
  method: 'get',
  path: '/v1/partitions/{name}',
  tags: ['Partitions'],
  summary: 'One partition (scontrol show partition)',
  security: [{ bearer: [] }],
  middleware: [requirePrincipal('admin', 'user', 'node')] as const,
  request: { params: PartitionParam },
  responses: {
    200: { description: 'The partition', content: { 'application/json': { schema: Partition } } },
    ...problemResponses(401, 403, 404, 422),
  },
});

export function registerGetPartition(app: App): void {
  app.openapi(route, async (c) =>
    c.json(partitionView(await findPartitionWithNodes(c.var.db, c.req.valid('param').name)), 200),
  );
}
