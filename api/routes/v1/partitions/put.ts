import { createRoute } from '@hono/zod-openapi';
import type { App } from '../../../app-env.js';
import { requirePrincipal } from '../../../auth/require-principal.js';
import { problemResponses } from '../../../http/problem.js';
import { findPartitionWithNodes, putPartition } from '../../../partitions/partition-store.js';
import { Partition, PartitionParam, partitionSettings, partitionView, PutPartitionRequest } from './schema.js';

const route = createRoute({
  method: 'put',
  path: '/v1/partitions/{name}',
  tags: ['Partitions'],
  summary: 'Create or replace a partition (admin)',
  description:
    'As a slurm.conf PartitionName line: the body is the whole partition, and a setting it leaves out is none (no limit, every account, state UP), but for `default`, which stays as it was when absent. Submits are checked against it at once in this API process, and within a few seconds in the others. Jobs already submitted keep their time limits; a partition set DOWN or INACTIVE starts none of its jobs from the next confirm on.',
  security: [{ bearer: [] }],
  middleware: [requirePrincipal('admin')] as const,
  request: {
    params: PartitionParam,
    body: { required: true, content: { 'application/json': { schema: PutPartitionRequest } } },
  },
  responses: {
    200: { description: 'The partition, replaced', content: { 'application/json': { schema: Partition } } },
    201: { description: 'The partition, created', content: { 'application/json': { schema: Partition } } },
    ...problemResponses(400, 401, 403, 422),
  },
});

export function registerPutPartition(app: App): void {
  app.openapi(route, async (c) => {
    const { name } = c.req.valid('param');
    const { created } = await putPartition(c.var.db, name, partitionSettings(c.req.valid('json')));
    c.var.services.partitions.forget();
    const view = partitionView(await findPartitionWithNodes(c.var.db, name));
    return created ? c.json(view, 201) : c.json(view, 200);
  });
}
