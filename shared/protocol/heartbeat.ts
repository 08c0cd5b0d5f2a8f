/** POST /v1/nodes/{node}/heartbeat: a node says it lives, what it offers and what it runs; told what to end. */
import { z } from '@hono/zod-openapi';
import { label } from '../names.js';
import { NODE_STATES } from '../node-state.js';
import { Capacity } from './capacity.js';
import { clusterIdField } from './cluster-id.js';
import { ContainmentLevels } from './containment.js';
import { ConfirmSequence, RunId } from './run-id.js';
import { RunsAs } from './runs-as.js';

export const HeartbeatRequest = Capacity.extend({
  running: z
    .array(RunId)
    .max(100_000)
    .optional()
    .openapi({ description: 'The jobs the node is running, with their attempts. Defaults to none.' }),
  ended: z
    .array(RunId)
    .max(100_000)
    .optional()
    .openapi({
      description:
        'Runs that ended on the node whose end the API has not acknowledged yet (still RUNNING there until it does). ' +
        'Defaults to none.',
    }),
  confirmed_through: ConfirmSequence.optional().openapi({
    description:
      'The highest confirm `sequence` whose jobs the node had journaled when it sent this heartbeat. With it, a RUNNING job of this node confirmed under that sequence or an earlier one that is in neither `running` nor `ended` is settled: its run was lost on the node. Without it (a daemon that has not confirmed since it started, or an older daemon), unlisted jobs are left alone.',
  }),
  daemon_version: label(64)
    .optional()
    .openapi({ description: 'The daemon software, e.g. "0.1.0" (protocol 2 on; /v1/nodes shows it).' }),
  containment: ContainmentLevels.optional().openapi({
    description: 'How the node contains its jobs, per concern (/v1/nodes shows it). Absent from older daemons.',
  }),
  runs_as: RunsAs.optional().openapi({
    description:
      'How the node runs jobs (protocol 3 on; /v1/nodes shows it). Without it, the node runs only jobs naming no user.',
  }),
})
  .strict()
  .openapi('HeartbeatRequest');
export type HeartbeatRequest = z.infer<typeof HeartbeatRequest>;

export const HeartbeatResponse = z
  .object({
    state: z.enum(NODE_STATES),
    cancel: z.array(RunId).openapi({ description: 'RUNNING jobs on this node to end as CANCELLED.' }),
    stop: z.array(RunId).openapi({
      description:
        'Runs the node reported that are no longer its own (settled while it was DOWN): stop them, report nothing.',
    }),
    cluster_id: clusterIdField(),
    lease_seconds: z
      .number()
      .positive()
      .nullable()
      .optional()
      .openapi({
        description:
          "The node's lease, renewed by this heartbeat (protocol 4 on), in seconds from when the node sent it: a node " +
          'that cannot renew it stops its runs before it ends, and only then does the API settle its jobs. null: the ' +
          'lease never expires (CONDUCTOR_NODE_LEASE_SECONDS=never): runs go on through any API outage. Absent from ' +
          'APIs before protocol 4 (no lease).',
      }),
  })
  .openapi('HeartbeatResponse');
export type HeartbeatResponse = z.infer<typeof HeartbeatResponse>;
