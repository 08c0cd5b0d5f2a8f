import { createRoute } from '@hono/zod-openapi';
import type { App } from '../../../app-env.js';
import { requirePrincipal } from '../../../auth/require-principal.js';
import { problemResponses } from '../../../http/problem.js';
import { deletePartition } from '../../../partitions/partition-store.js';
import { PartitionParam } from './schema.js';

const route = createRoute({
  method: 'delete',
  path: '/v1/partitions/{name}',
  tags: ['Partitions'],
  summary: 'Delete a partition (admin)',
  description:
    'Refused (409) while it is the default partition, or while any of its jobs is PENDING or RUNNING. Its finished jobs keep its name. A node that still serves it, or a node token granted it, configures it again at its next heartbeat.',
  security: [{ bearer: [] }],
  middleware: [requirePrincipal('admin')] as const,
  request: { params: PartitionParam },
  responses: {
    204: { description: 'Deleted' },
    ...problemResponses(401, 403, 404, 422),
    409: { ...problemResponses(409)[409], description: 'It is the default partition, or has pending or running jobs' },
  },
});

export function registerDeletePartition(app: App): void {
  app.openapi(route, async (c) => {
    await deletePartition(c.var.db, c.req.valid('param').name);
    c.var.services.partitions.forget();
    return c.body(null, 204);
  });
}
