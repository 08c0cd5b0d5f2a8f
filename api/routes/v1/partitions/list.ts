import { createRoute, z } from '@hono/zod-openapi';
import type { App } from '../../../app-env.js';
import { requirePrincipal } from '../../../auth/require-principal.js';
import { problemResponses } from '../../../http/problem.js';
import { listPartitionsWithNodes } from '../../../partitions/partition-store.js';
import { Partition, partitionView } from './schema.js';

const route = createRoute({
  method: 'get',
  path: '/v1/partitions',
  tags: ['Partitions'],
  summary: 'Every partition: its settings, and the nodes and CPUs that serve it (sinfo -s)',
  security: [{ bearer: [] }],
  middleware: [requirePrincipal('admin', 'user', 'node')] as const,
  responses: {
    200: {
      description: 'The partitions, by name',
      content: { 'application/json': { schema: z.object({ partitions: z.array(Partition) }) } },
    },
    ...problemResponses(401, 403),
  },
});

export function registerListPartitions(app: App): void {
  app.openapi(route, async (c) =>
    c.json({ partitions: (await listPartitionsWithNodes(c.var.db)).map(partitionView) }, 200),
  );
}
