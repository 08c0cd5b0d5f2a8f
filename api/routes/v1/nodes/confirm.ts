import { pushOwedRefs } from '../../../jobs/push-not-enqueued.js';
import { createRoute } from '@hono/zod-openapi';
import type { JobRow } from '../../../../shared/db/schema.js';
import type { App } from '../../../app-env.js';
import { actorName } from '../../../auth/principal.js';
import { grantedPartitions, requireGrantedPartitions } from '../../../auth/node-grant.js';
import { requireNodeAccess } from '../../../auth/require-node-access.js';
import {
  claimsToHandBack,
  confirmClaims,
  confirmSequence,
  jobsOutsidePartitions,
  unreportedRuns,
} from '../../../jobs/confirm-claims.js';
import { problemResponses } from '../../../http/problem.js';
import { readNodeState } from '../../../nodes/node-state.js';
import { runsUnnamedAs } from '../../../nodes/runs-owner.js';
import { ConfirmRequest, ConfirmResponse } from '../../../../shared/protocol/confirm.js';
import { CLUSTER_ID_PROTOCOL } from '../../../../shared/protocol/protocol-version.js';
import { nodeProtocol } from '../../../http/node-protocol.js';
import { markLegacyLogKeys } from '../../../jobs/job-output.js';
import { NodeParam, nodeJobView } from './schema.js';

const route = createRoute({
  method: 'post',
  path: '/v1/nodes/{node}/confirm',
  tags: ['Nodes'],
  summary: 'Confirm claimed refs: PENDING → RUNNING on this node',
  description:
    "One conditional write for the whole batch. A node token may confirm only jobs of the partitions it was granted: a batch with any other is refused (403 naming the partition) and its refs go back to the queue. Jobs this node claimed that are still PENDING start on it as a new attempt and come back with their scripts; the rest are dropped (no longer PENDING, or not this node's claim). Either way the refs leave the node's claimed set, but for jobs whose owner the node does not run (runs_as): those go back to the queue for another node. A confirm retried after a lost answer gets the same jobs again, as long as the node has not reported them started.",
  security: [{ bearer: [] }],
  middleware: [nodeProtocol, requireNodeAccess()] as const,
  request: {
    params: NodeParam,
    body: { required: true, content: { 'application/json': { schema: ConfirmRequest } } },
  },
  responses: {
    200: { description: 'What to run, and what not to', content: { 'application/json': { schema: ConfirmResponse } } },
    ...problemResponses(400, 401, 403, 422, 503),
  },
});

export function registerConfirm(app: App): void {
  app.openapi(route, async (c) => {
    const { node } = c.req.valid('param');
    const ids = [...new Set(c.req.valid('json').job_ids.map(Number))];
    const { queue } = c.var.services;
    const granted = grantedPartitions(c.var.principal);
    if (granted) {
      // A node is never handed a job of a partition it was not enrolled for, whatever its Redis claim said: the whole
      // batch is refused (403 naming the partition) and goes back to the queue at once, for a node that may run it.
      const outside = await jobsOutsidePartitions(c.var.db, ids, granted);
      if (outside.length) {
        await queue.release(node, ids);
        requireGrantedPartitions(
          c.var.principal,
          outside.map((job) => job.partition),
        );
      }
    }
    let started: JobRow[] = [];
    let confirmed = new Set<number>();
    let sequence: number | undefined;
    let dropped: number[] = [];
    if ((await readNodeState(c.var.db, node)) === 'UP') {
      // Only refs this node really claimed may start here: the claim decided where a job runs. Settled first, so
      // that a ref is never both confirmed and still claimable; if the process dies before the confirm, the job is
      // PENDING without a ref, and the reconciler's sweep pushes it again.
      // A job whose owner the node does not run (its heartbeat's runs_as) goes back to the queue for another node,
      // whatever the claim said: a daemon of an older protocol claiming from Redis skips no owner.
      // So does a job whose partition starts nothing now (DOWN or INACTIVE): it waits in the queue, where claims skip
      // it until the partition is UP again.
      const refused = await claimsToHandBack(c.var.db, node, ids);
      await queue.release(node, refused);
      const refusedIds = new Set(refused);
      const claimed = await queue.settle(
        node,
        ids.filter((id) => !refusedIds.has(id)),
      );
      ({ started, dropped, sequence } = await confirmClaims(
        c.var.db,
        node,
        claimed,
        actorName(c.var.principal),
        granted,
      ));
      confirmed = new Set(claimed);
      c.var.services.metrics?.confirmed(started.map(startWait));
    } else {
      // A node that is not UP (never seen, draining, down) starts nothing; what it claimed goes back to the queue.
      await queue.release(node, ids);
    }
    const retried = await unreportedRuns(
      c.var.db,
      node,
      ids.filter((id) => !confirmed.has(id)),
    );
    const jobs = [...started, ...retried];
    if (c.var.protocol < CLUSTER_ID_PROTOCOL) {
      await markLegacyLogKeys(
        c.var.db,
        jobs.map((job) => job.id),
      );
    }
    await c.var.services.faults('confirm.committed');
    // A start may have satisfied jobs depending on it (`after`), and a claimed job a check kept from starting may have
    // been cancelled as never able to start, settling its own dependents: what they released is pushed now.
    if (dropped.length > 0 || started.some((job) => job.hasDependents)) await pushOwedRefs(c.var.db, c.var.services);
    const running = new Set(jobs.map((job) => job.id));
    // Read after the retried jobs: their sequence (from the confirm whose answer was lost) is no higher than it.
    sequence ??= await confirmSequence(c.var.db, node);
    const cluster_id = await c.var.services.clusterId(c.var.db);
    // Looked up only when it is needed: a job naming no user whose output paths say %u.
    const unnamed = jobs.some((job) => job.user === null && /%u/.test(job.stdoutPattern + job.stderrPattern))
      ? await runsUnnamedAs(c.var.db, node)
      : null;
    return c.json(
      {
        jobs: jobs.map((job) => nodeJobView(job, unnamed)),
        dropped: ids.filter((id) => !running.has(id)).map(String),
        sequence,
        cluster_id,
      },
      200,
    );
  });
}

/** A started job's partition and its wait from submit to start, in seconds. */
const startWait = (job: JobRow) => ({
  partition: job.partition,
  waitSeconds: Math.max(0, ((job.startTime?.getTime() ?? Date.now()) - job.submitTime.getTime()) / 1000),
});
