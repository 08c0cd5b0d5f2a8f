/** POST /v1/nodes/{node}/claim: a node without Redis access claims refs that fit it through the API. */
import { z } from '@hono/zod-openapi';
import { Capacity, Cpus, MemoryMb } from './capacity.js';
import { RunsAs } from './runs-as.js';

export const RunningJob = z
  .object({
    cpus: Cpus.openapi({ description: 'The cores it holds (all the node has, for an exclusive job).' }),
    memory_mb: MemoryMb,
    ends_in_ms: z.number().int().min(0).nullable().openapi({
      description:
        'Milliseconds until its time limit ends it, from the time of this request (relative: clocks need not agree); null: UNLIMITED.',
    }),
  })
  .strict()
  .openapi('RunningJob');

export const ClaimRequest = Capacity.extend({
  free_cpus: Cpus.openapi({ description: 'The cores free now.' }),
  free_memory_mb: MemoryMb,
  max: z.number().int().min(1).max(1000).optional().openapi({ description: 'The most refs to take. Defaults to 32.' }),
  runs_as: RunsAs.optional().openapi({
    description:
      'How the node runs jobs (protocol 3 on): it is given only jobs it runs. Without it (protocol 2), only jobs naming no user.',
  }),
  running: z.array(RunningJob).max(1_000_000).optional().openapi({
    description:
      "The jobs running on the node, for backfill: a job may start past a reserved head only when it ends before the head's earliest start here. Without it (older daemons) the node's running jobs are unknown, and nothing backfills on it.",
  }),
})
  .strict()
  .superRefine((body, ctx) => {
    if (body.free_cpus > body.cpus) {
      ctx.addIssue({ code: 'custom', path: ['free_cpus'], message: 'must be at most cpus' });
    }
    if (body.free_memory_mb > body.memory_mb) {
      ctx.addIssue({ code: 'custom', path: ['free_memory_mb'], message: 'must be at most memory_mb' });
    }
  })
  .openapi('ClaimRequest');
export type ClaimRequest = z.infer<typeof ClaimRequest>;

export const Ref = z
  .object({
    id: z.string(),
    partition: z.string(),
    cpus: z.number().int(),
    memory_mb: z.number().int(),
    priority: z.number().int(),
    exclusive: z.boolean(),
    user: z.string().nullable().openapi({ description: "The job's owner (protocol 3 on); null: it names none." }),
    time_limit_seconds: z.number().int().nullable().openapi({ description: "The job's time limit; null: UNLIMITED." }),
  })
  .openapi('JobRef');

export const ClaimResponse = z.object({ refs: z.array(Ref) }).openapi('ClaimResponse');
export type ClaimResponse = z.infer<typeof ClaimResponse>;
