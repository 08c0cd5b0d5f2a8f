/**
 * POST /v1/nodes/{node}/events: a node reports its runs' starts and ends, in batches, each naming its attempt; each
 * is answered applied, duplicate (a retry) or refused (another attempt's or another node's: fencing).
 */
import { z } from '@hono/zod-openapi';
import { label } from '../names.js';
import { Attempt, JobIdText } from './run-id.js';
import { RunUsage } from './run-usage.js';

/**
 * How a run can end, as its node reports it. NODE_FAIL (protocol 4 on): the node stopped the run because it could not
 * renew its lease (the API would have settled it as lost); a job that asked for requeue goes back to PENDING then.
 */
export const RUN_ENDINGS = ['COMPLETED', 'FAILED', 'CANCELLED', 'TIMEOUT', 'OUT_OF_MEMORY', 'NODE_FAIL'] as const;
export type RunEnding = (typeof RUN_ENDINGS)[number];

export const StartedEvent = z
  .object({
    kind: z.literal('started'),
    job_id: JobIdText,
    attempt: Attempt,
    pid: z
      .number()
      .int()
      .min(1)
      .max(2 ** 31 - 1),
    cpu_ids: z.array(z.number().int().min(0).max(1_000_000)).max(4096),
  })
  .strict()
  .openapi('StartedEvent');
export type StartedEvent = z.infer<typeof StartedEvent>;

/** How a run ended: its state, its process's exit status and terminating signal, and why. */
export const RunOutcome = z.object({
  state: z.enum(RUN_ENDINGS),
  exit_status: z.number().int().min(0).max(255).nullable(),
  exit_signal: z.number().int().min(1).max(128).nullable(),
  error_msg: label(4096).nullable().optional(),
});
export type RunOutcome = z.infer<typeof RunOutcome>;

export const FinishedEvent = RunOutcome.extend({
  kind: z.literal('finished'),
  job_id: JobIdText,
  attempt: Attempt,
  /**
   * Bytes of output this run stored (every stream, from the run's start): its account's stored output, which a
   * limit may cap (issue 19). Absent from daemons before it, and from runs whose output the node does not ship.
   */
  output_bytes: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
  /** What the run used (protocol 6). Absent from older daemons, and from runs that never started. */
  usage: RunUsage.optional(),
})
  .strict()
  .openapi('FinishedEvent');
export type FinishedEvent = z.infer<typeof FinishedEvent>;

export const NodeEvent = z.discriminatedUnion('kind', [StartedEvent, FinishedEvent]);
export type NodeEvent = z.infer<typeof NodeEvent>;

export const EventsRequest = z
  .object({ events: z.array(NodeEvent).min(1).max(500) })
  .strict()
  .openapi('NodeEventsRequest');
export type EventsRequest = z.infer<typeof EventsRequest>;

export const EVENT_RESULTS = ['applied', 'duplicate', 'refused'] as const;
export type EventResult = (typeof EVENT_RESULTS)[number];

export const EventsResponse = z
  .object({
    results: z.array(
      z.object({
        job_id: z.string(),
        attempt: z.number().int(),
        kind: z.enum(['started', 'finished']),
        result: z.enum(EVENT_RESULTS),
      }),
    ),
  })
  .openapi('NodeEventsResponse');
export type EventsResponse = z.infer<typeof EventsResponse>;
