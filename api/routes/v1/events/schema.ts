import { z } from '@hono/zod-openapi';
import { JOB_STATES } from '../../../../shared/job/job-state.js';
import { identifier } from '../../../../shared/names.js';
import { NODE_STATES } from '../../../../shared/node-state.js';
import { EVENT_KINDS } from '../../../events/event-filter.js';
import { parsePosition } from '../../../events/event-position.js';

/** A list given as one comma-separated value, as the parameter repeated, or both: `job_id=1,2&job_id=3`. */
const list = <T extends string>(item: z.ZodType<T, string>, message: string) =>
  z
    .union([z.string(), z.array(z.string())])
    .transform((value) => (Array.isArray(value) ? value : [value]).flatMap((part) => part.split(',')))
    .pipe(z.array(item, message).min(1, message));

const STATES: readonly string[] = [...JOB_STATES, ...NODE_STATES];
const JOB_ID_LIST = 'must be job ids (positive integers), separated by commas';
const STATE_LIST = `must be one or more of ${STATES.join(', ')}, separated by commas`;

export const EventsQuery = z.object({
  kinds: list(z.enum(EVENT_KINDS), 'must be job, node, or job,node')
    .optional()
    .openapi({ description: 'job (default), node (admin only), or both: job,node.', example: 'job,node' }),
  job_id: list(z.string().regex(/^[1-9][0-9]{0,14}$/, JOB_ID_LIST), JOB_ID_LIST)
    .optional()
    .openapi({ description: "Only these jobs' events: comma-separated, or the parameter repeated.", example: '42,43' }),
  account: identifier('account')
    .optional()
    .openapi({ description: "Only this account's job events; a user token's is always its own." }),
  state: list(
    // The message on the item too: an unknown state is an item's error, which the list's message does not replace.
    z.string().refine((state) => STATES.includes(state), STATE_LIST),
    STATE_LIST,
  )
    .optional()
    .openapi({ description: 'Only events into these states (to_state).', example: 'COMPLETED,FAILED' }),
  partition: list(identifier('partition'), 'must be partition names')
    .optional()
    .openapi({ description: "Only these partitions' job events, and events of nodes serving one of them." }),
  after: z
    .string()
    .refine((value) => parsePosition(value) !== null, 'must be an event id from this stream')
    .optional()
    .openapi({
      description:
        'Resume after this event id, as the Last-Event-ID header does (the header wins). Without either, the stream starts now.',
    }),
});

export const StreamEventData = z
  .object({
    kind: z.enum(EVENT_KINDS),
    at: z.string().openapi({ format: 'date-time' }),
    from_state: z.string().nullable(),
    to_state: z.string(),
    reason: z.string().nullable(),
    job_id: z.string().optional(),
    attempt: z.number().int().optional(),
    account: z.string().optional(),
    partition: z.string().optional(),
    user: z.string().nullable().optional(),
    name: z.string().optional(),
    change: z.string().optional().openapi({ description: "A job event's kind: transition, hold, release, update." }),
    actor: z.string().optional(),
    changes: z
      .record(z.string(), z.object({ from: z.unknown(), to: z.unknown() }))
      .nullable()
      .optional(),
    node: z.string().optional(),
    partitions: z.array(z.string()).optional(),
  })
  .openapi('StreamEvent', {
    description: "The JSON of one SSE `data:` line. Job events carry the job's fields, node events the node's.",
  });
