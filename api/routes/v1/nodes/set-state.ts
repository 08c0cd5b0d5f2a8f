import { createRoute, z } from '@hono/zod-openapi';
import { label } from '../../../../shared/names.js';
import type { App } from '../../../app-env.js';
import { actorName } from '../../../auth/principal.js';
import { requirePrincipal } from '../../../auth/require-principal.js';
import { problemResponses } from '../../../http/problem.js';
import { readNodeUsage } from '../../../nodes/node-usage.js';
import { setNodeState } from '../../../nodes/set-node-state.js';
import type { Context } from 'hono';
import type { AppEnv } from '../../../app-env.js';
import { Node, NodeParam, nodeView } from './schema.js';
import { emptyJsonBodyIsNone } from '../../../http/body-screen.js';

const SUMMARIES = {
  drain:
    'Drain a node (admin): it takes no new work, its running jobs finish. The reason, who drained it and when are kept until it is resumed (sinfo -R).',
  resume: 'Resume a drained node (admin); its drain reason is cleared',
  down: "Declare a silent node DOWN (admin): its lease ends now, and the reconciler settles its jobs (requeued or NODE_FAIL) at its next run. For a lease that never expires (CONDUCTOR_NODE_LEASE_SECONDS=never), the only way to settle a node that does not return: declare it only once its jobs' processes are known to be gone (the machine is off). A node that heartbeats again is UP.",
} as const;

/** The longest reason kept, as Slurm's own limit is not documented: a line for sinfo -R, not a report. */
export const MAX_DRAIN_REASON = 256;

const DrainRequest = z
  .object({
    reason: label(MAX_DRAIN_REASON)
      .optional()
      .openapi({
        description: `Why (scontrol's Reason=): 1 to ${MAX_DRAIN_REASON} characters, no control characters.`,
      }),
  })
  .strict()
  .openapi('DrainRequest');

/** POST /v1/nodes/{node}/drain, /resume and /down: one route for each state an admin may set. */
function stateRoute<Request extends { params: typeof NodeParam }>(action: keyof typeof SUMMARIES, request: Request) {
  return createRoute({
    method: 'post',
    path: `/v1/nodes/{node}/${action}`,
    tags: ['Nodes'],
    summary: SUMMARIES[action],
    security: [{ bearer: [] }],
    middleware: [requirePrincipal('admin'), emptyJsonBodyIsNone] as const,
    request,
    responses: {
      200: { description: 'The node', content: { 'application/json': { schema: Node } } },
      ...problemResponses(401, 403, 404, 415, 422),
    },
  });
}

// The body is optional: a drain with none (as before reasons were kept) keeps working.
const drainRoute = stateRoute('drain', {
  params: NodeParam,
  body: { required: false, content: { 'application/json': { schema: DrainRequest } } },
});

async function answerNode(c: Context<AppEnv>, node: string) {
  const usage = (await readNodeUsage(c.var.db)).find((entry) => entry.node.name === node)!;
  return nodeView(usage);
}

export function registerSetNodeState(app: App): void {
  app.openapi(drainRoute, async (c) => {
    const { node } = c.req.valid('param');
    const { reason } = c.req.valid('json');
    await setNodeState(c.var.db, node, {
      state: 'DRAINING',
      drain: { reason: reason ?? null, by: actorName(c.var.principal) },
    });
    return c.json(await answerNode(c, node), 200);
  });
  for (const [action, state] of [
    ['resume', 'UP'],
    ['down', 'DOWN'],
  ] as const) {
    app.openapi(stateRoute(action, { params: NodeParam }), async (c) => {
      const { node } = c.req.valid('param');
      await setNodeState(c.var.db, node, { state });
      return c.json(await answerNode(c, node), 200);
    });
  }
}
