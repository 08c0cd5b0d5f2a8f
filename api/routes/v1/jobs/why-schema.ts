/** The why answer's schemas (GET /v1/jobs/{id}/why). */
import { z } from '@hono/zod-openapi';
import { PENDING_REASONS } from '../../../../shared/job/pending-reason.js';
import { LISTED_AHEAD, SIMULATED_AHEAD } from '../../../jobs/why/explain-pending.js';
import { NODE_VERDICTS } from '../../../jobs/why/node-verdicts.js';
import { timestamp } from './schema.js';

/** What a job of another account is shown as, in place of its name, user and account. */
export const ANOTHER_ACCOUNT = 'another account';

const JobAhead = z
  .object({
    id: z.string(),
    priority: z.number().int(),
    cpus: z.number().int(),
    memory_per_node: z.string().openapi({ example: '16G' }),
    time_limit: z.string().openapi({ example: '0-01:00:00' }),
    owner: z.string().openapi({
      description: `The job's account, or "${ANOTHER_ACCOUNT}" for a job of an account the caller may not see.`,
      example: 'physics',
    }),
    name: z.string().nullable().openapi({ description: "Null for another account's job." }),
    user: z.string().nullable().openapi({ description: "Null for another account's job, or one naming no user." }),
  })
  .openapi('JobAhead');

const NodeWhy = z
  .object({
    name: z.string(),
    state: z.enum(['UP', 'DOWN', 'DRAINING']),
    verdict: z.enum(NODE_VERDICTS).openapi({
      description:
        "down; drained (detail gives the drain reason); owner_not_run (it does not run jobs of the job's owner); too_small (never fits); busy (not enough free now: frees_at says when enough frees by its running jobs' time limits); free (room now: the jobs ahead go first)",
    }),
    detail: z.string(),
    cpus: z.number().int(),
    memory_mb: z.number().int(),
    free_cpus: z.number().int(),
    free_memory_mb: z.number().int(),
    frees_at: timestamp.nullable().openapi({
      description:
        'busy only: when its running jobs, ending at start + time limit, leave enough room; null when not computable (a job on it has no time limit) or not busy.',
    }),
  })
  .openapi('NodeWhy');

export const WhyPending = z
  .object({
    job_id: z.string(),
    state: z.literal('PENDING'),
    partition: z.string(),
    reason: z.enum(PENDING_REASONS),
    reason_detail: z.string(),
    queue: z.object({
      position: z.number().int().openapi({ description: '1 for the next job of its partition.' }),
      ahead: z.number().int().openapi({ description: 'How many PENDING jobs of its partition are ahead of it.' }),
      jobs_ahead: z
        .array(JobAhead)
        .openapi({ description: `The first ${LISTED_AHEAD} of them, in queue order (priority desc, id asc).` }),
    }),
    nodes: z
      .array(NodeWhy)
      .openapi({ description: 'Every node of its partition, by name, with why it cannot start there now.' }),
    account_limit: z
      .object({
        reason: z.enum(['AssocGrpCpuLimit', 'AssocMaxJobsLimit']),
        limit: z.number().int().nullable().openapi({ description: 'Null: the account has no such limit any more.' }),
        in_use: z.number().int(),
        unit: z.enum(['cpus', 'jobs']),
      })
      .nullable()
      .openapi({ description: "The account's running limit that holds it; null when none does." }),
    expected_start: z
      .object({
        time: timestamp.nullable().openapi({ description: 'Null when not computable; note says why.' }),
        node: z.string().nullable(),
        note: z.string().nullable(),
        simulated_jobs_ahead: z.number().int(),
        capped: z.boolean().openapi({
          description: `True when more jobs are ahead than were simulated (the first ${SIMULATED_AHEAD}).`,
        }),
      })
      .openapi({
        description:
          'As squeue --start computes it: running jobs end at start + time limit, the jobs ahead take, in queue order, the earliest slot of a node that fits them (first fit), then this job. An estimate: jobs end early, and jobs of higher priority may come.',
      }),
  })
  .openapi('WhyPending');
