import { createRoute } from '@hono/zod-openapi';
import { errorFields } from '../../../../shared/log/logger.js';
import type { App } from '../../../app-env.js';
import { requirePrincipal } from '../../../auth/require-principal.js';
import { problemResponses } from '../../../http/problem.js';
import { startsJobs, syncPausedPartitions } from '../../../partitions/partition-starts.js';
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
    const settings = partitionSettings(c.req.valid('json'));
    const { created, previousState } = await putPartition(c.var.db, name, settings);
    c.var.services.partitions.forget();
    // Only a change between starting and stopped moves the queue's paused set (a new one was in no set). The
    // partition is stored: a queue that does not answer must not make the change look failed. Every reconciler run
    // syncs the set again, and meanwhile the confirm starts nothing of a stopped partition.
    if (startsJobs(previousState ?? 'UP') !== startsJobs(settings.state)) {
      await syncPausedPartitions(c.var.db, c.var.services.queue).catch((error: Error) =>
        c.var.logger.warn("the queue's paused set was not updated, the reconciler will", {
          partition: name,
          ...errorFields(error),
        }),
      );
    }
    const view = partitionView(await findPartitionWithNodes(c.var.db, name));
    return created ? c.json(view, 201) : c.json(view, 200);
  });
}
