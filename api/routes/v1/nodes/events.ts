import { createRoute, z } from '@hono/zod-openapi';
import { label } from '../../../../shared/names.js';
import type { App } from '../../../app-env.js';
import { actorName } from '../../../auth/principal.js';
import { requireNodeAccess } from '../../../auth/require-node-access.js';
import { applyNodeEvents, NODE_ENDINGS, type NodeEvent } from '../../../jobs/apply-node-event.js';
import { ID_PATTERN } from '../../../http/id-param.js';
import { problemResponses } from '../../../http/problem.js';
import { NodeParam } from './schema.js';

const jobId = z.string().regex(ID_PATTERN, 'must be a job id');
const attempt = z.number().int().min(1);

const StartedEvent = z
  .object({
    kind: z.literal('started'),
    job_id: jobId,
    attempt,
    pid: z.number().int().min(1),
    cpu_ids: z.array(z.number().int().min(0)).max(4096),
  })
  .strict()
  .openapi('StartedEvent');

const FinishedEvent = z
  .object({
    kind: z.literal('finished'),
    job_id: jobId,
    attempt,
    state: z.enum(NODE_ENDINGS),
    exit_status: z.number().int().min(0).max(255).nullable(),
    exit_signal: z.number().int().min(1).max(128).nullable(),
    error_msg: label(4096).nullable().optional(),
  })
  .strict()
  .openapi('FinishedEvent');

const EventsRequest = z
  .object({
    events: z
      .array(z.discriminatedUnion('kind', [StartedEvent, FinishedEvent]))
      .min(1)
      .max(500),
  })
  .strict()
  .openapi('NodeEventsRequest');

const EventsResponse = z
  .object({
    results: z.array(
      z.object({
        job_id: z.string(),
        attempt: z.number().int(),
        kind: z.enum(['started', 'finished']),
        result: z.enum(['applied', 'duplicate', 'refused']),
      }),
    ),
  })
  .openapi('NodeEventsResponse');

const route = createRoute({
  method: 'post',
  path: '/v1/nodes/{node}/events',
  tags: ['Nodes'],
  summary: 'Report job events from a node, in a batch',
  description:
    "Each event names the job's attempt. Each answer acknowledges its event: applied, duplicate (a retry of one applied before), or refused for good (another attempt or another node's: fencing). A node retries a batch until it gets this answer.",
  security: [{ bearer: [] }],
  middleware: [requireNodeAccess()] as const,
  request: {
    params: NodeParam,
    body: { required: true, content: { 'application/json': { schema: EventsRequest } } },
  },
  responses: {
    200: { description: 'One result per event, in order', content: { 'application/json': { schema: EventsResponse } } },
    ...problemResponses(400, 401, 403, 422, 503),
  },
});

export function registerNodeEvents(app: App): void {
  app.openapi(route, async (c) => {
    const { node } = c.req.valid('param');
    const actor = actorName(c.var.principal);
    const bodies = c.req.valid('json').events;
    const events = bodies.map((body): NodeEvent =>
      body.kind === 'started'
        ? { kind: 'started', jobId: Number(body.job_id), attempt: body.attempt, pid: body.pid, cpuIds: body.cpu_ids }
        : {
            kind: 'finished',
            jobId: Number(body.job_id),
            attempt: body.attempt,
            state: body.state,
            exitStatus: body.exit_status,
            exitSignal: body.exit_signal,
            errorMsg: body.error_msg ?? null,
          },
    );
    const outcomes = await applyNodeEvents(c.var.db, node, events, actor);
    const results = bodies.map((body, n) => ({
      job_id: body.job_id,
      attempt: body.attempt,
      kind: body.kind,
      result: outcomes[n]!,
    }));
    return c.json({ results }, 200);
  });
}
