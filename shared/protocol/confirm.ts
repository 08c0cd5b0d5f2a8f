/** POST /v1/nodes/{node}/confirm: the claimed jobs still PENDING become RUNNING on the node, as a new attempt. */
import { z } from '@hono/zod-openapi';
import { OPEN_MODES } from '../job/open-mode.js';
import { clusterIdField } from './cluster-id.js';
import { ConfirmSequence, JobIdText } from './run-id.js';

export const ConfirmRequest = z
  .object({ job_ids: z.array(JobIdText).max(1000) })
  .strict()
  .openapi('ConfirmRequest');
export type ConfirmRequest = z.infer<typeof ConfirmRequest>;

/** A job confirmed for a node: everything the node needs to run it. */
export const NodeJob = z
  .object({
    id: z.string(),
    attempt: z.number().int(),
    name: z.string(),
    account: z.string(),
    user: z.string().nullable().openapi({
      description:
        "The job's owner, a Unix login name, to run it as (protocol 3 on); null: it names none (run as root on a root daemon that allows it, else as the daemon's own user).",
    }),
    partition: z.string(),
    script: z.string(),
    environment: z.record(z.string(), z.string()),
    current_working_directory: z.string().nullable(),
    standard_output: z.string(),
    standard_error: z.string(),
    cpus: z.number().int(),
    ntasks_per_node: z.number().int(),
    cpus_per_task: z.number().int(),
    memory_mb: z.number().int(),
    time_limit_seconds: z.number().int().nullable().openapi({ description: 'null: unlimited' }),
    exclusive: z.boolean(),
    open_mode: z.enum(OPEN_MODES).optional().openapi({
      description: 'How to open the output files (sbatch --open-mode); absent from APIs before it: append.',
    }),
    signal: z
      .object({ signal: z.string(), seconds: z.number().int(), batch_only: z.boolean() })
      .nullable()
      .optional()
      .openapi({
        description:
          "sbatch --signal: send this signal (a name without SIG) this many seconds before the time limit: with batch_only to the batch script only, otherwise to the job's steps (what srun runs), not the batch script. Absent or null: none.",
      }),
  })
  .openapi('NodeJob');
export type NodeJob = z.infer<typeof NodeJob>;

export const ConfirmResponse = z
  .object({
    jobs: z.array(NodeJob).openapi({ description: 'Now RUNNING on this node, as this attempt: run them.' }),
    dropped: z
      .array(z.string())
      .openapi({ description: 'No longer PENDING (cancelled, or started elsewhere): do not run.' }),
    sequence: ConfirmSequence.optional().openapi({
      description:
        "The node's confirm sequence after this confirm: every job handed to this node so far, by this answer or an " +
        'earlier one, was handed under a sequence no higher. Once the node has journaled these jobs it says this ' +
        'number as `confirmed_through` in its heartbeats. Absent from APIs before it.',
    }),
    cluster_id: clusterIdField(),
  })
  .openapi('ConfirmResponse');
export type ConfirmResponse = z.infer<typeof ConfirmResponse>;
