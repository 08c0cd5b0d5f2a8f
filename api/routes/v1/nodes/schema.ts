import { z } from '@hono/zod-openapi';
import { NODE_STATES, type JobRow } from '../../../../shared/db/schema.js';
import type { NodeUsage } from '../../../nodes/node-usage.js';
import { timestamp } from '../jobs/schema.js';
import { expandOutputPath } from '../../../../shared/job/output-path.js';
import { MAX_MEMORY_MB } from '../../../../shared/job/memory-size.js';
import { identifier } from '../../../../shared/names.js';
import type { JobRef } from '../../../../shared/queue/job-queue.js';
import { ID_PATTERN } from '../../../http/id-param.js';

export const NodeParam = z.object({
  node: identifier('node').openapi({ param: { name: 'node', in: 'path' }, example: 'n01' }),
});

const cpus = z.number().int().min(0).max(1_000_000);
const memory = z.number().int().min(0).max(MAX_MEMORY_MB);

const ClaimPartitions = z
  .array(identifier('partition'))
  .min(1)
  .max(64)
  .refine((names) => new Set(names).size === names.length, 'must not name a partition twice');

export const ClaimRequest = z
  .object({
    partitions: ClaimPartitions,
    cpus: cpus.min(1).openapi({ description: 'The cores the node has.' }),
    memory_mb: memory.min(1),
    free_cpus: cpus.openapi({ description: 'The cores free now.' }),
    free_memory_mb: memory,
    max: z
      .number()
      .int()
      .min(1)
      .max(1000)
      .optional()
      .openapi({ description: 'The most refs to take. Defaults to 32.' }),
  })
  .strict()
  .superRefine((body, ctx) => {
    if (body.free_cpus > body.cpus)
      ctx.addIssue({ code: 'custom', path: ['free_cpus'], message: 'must be at most cpus' });
    if (body.free_memory_mb > body.memory_mb) {
      ctx.addIssue({ code: 'custom', path: ['free_memory_mb'], message: 'must be at most memory_mb' });
    }
  })
  .openapi('ClaimRequest');

const JobAttempt = z.object({
  job_id: z.string().regex(ID_PATTERN, 'must be a job id'),
  attempt: z.number().int().min(1),
});

export const HeartbeatRequest = z
  .object({
    partitions: ClaimPartitions,
    cpus: cpus.min(1),
    memory_mb: memory.min(1),
    running: z
      .array(JobAttempt)
      .max(100_000)
      .optional()
      .openapi({ description: 'The jobs the node is running, with their attempts. Defaults to none.' }),
  })
  .strict()
  .openapi('HeartbeatRequest');

export const HeartbeatResponse = z
  .object({
    state: z.enum(NODE_STATES),
    cancel: z.array(JobAttempt).openapi({ description: 'RUNNING jobs on this node to end as CANCELLED.' }),
    stop: z.array(JobAttempt).openapi({
      description:
        'Runs the node reported that are no longer its own (settled while it was DOWN): stop them, report nothing.',
    }),
  })
  .openapi('HeartbeatResponse');

export const Node = z
  .object({
    name: z.string(),
    state: z.enum(NODE_STATES),
    partitions: z.array(z.string()),
    cpus: z.number().int(),
    memory_mb: z.number().int(),
    cpus_allocated: z.number().int(),
    memory_allocated_mb: z.number(),
    last_heartbeat: timestamp.nullable(),
    registered_at: timestamp,
  })
  .openapi('Node');

export function nodeView({ node, cpusAllocated, memoryAllocatedMb }: NodeUsage): z.infer<typeof Node> {
  return {
    name: node.name,
    state: node.state,
    partitions: node.partitions,
    cpus: node.cpus,
    memory_mb: node.memoryMb,
    cpus_allocated: cpusAllocated,
    memory_allocated_mb: memoryAllocatedMb,
    last_heartbeat: node.lastHeartbeat?.toISOString() ?? null,
    registered_at: node.registeredAt.toISOString(),
  };
}

export const Ref = z
  .object({
    id: z.string(),
    partition: z.string(),
    cpus: z.number().int(),
    memory_mb: z.number().int(),
    priority: z.number().int(),
    exclusive: z.boolean(),
  })
  .openapi('JobRef');

export const ClaimResponse = z.object({ refs: z.array(Ref) }).openapi('ClaimResponse');

export const ConfirmRequest = z
  .object({ job_ids: z.array(z.string().regex(ID_PATTERN, 'must be job ids')).max(1000) })
  .strict()
  .openapi('ConfirmRequest');

export const NodeJob = z
  .object({
    id: z.string(),
    attempt: z.number().int(),
    name: z.string(),
    account: z.string(),
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
  })
  .openapi('NodeJob');

export const ConfirmResponse = z
  .object({
    jobs: z.array(NodeJob).openapi({ description: 'Now RUNNING on this node, as this attempt: run them.' }),
    dropped: z
      .array(z.string())
      .openapi({ description: 'No longer PENDING (cancelled, or started elsewhere): do not run.' }),
  })
  .openapi('ConfirmResponse');

export function refView(ref: JobRef): z.infer<typeof Ref> {
  return {
    id: String(ref.id),
    partition: ref.partition,
    cpus: ref.cpus,
    memory_mb: ref.memoryMb,
    priority: ref.priority,
    exclusive: ref.exclusive,
  };
}

export function nodeJobView(job: JobRow): z.infer<typeof NodeJob> {
  const names = { id: String(job.id), name: job.name };
  return {
    id: String(job.id),
    attempt: job.attempt,
    name: job.name,
    account: job.account,
    partition: job.partition,
    script: job.script,
    environment: job.environment,
    current_working_directory: job.workDir,
    standard_output: expandOutputPath(job.stdoutPattern, names),
    standard_error: expandOutputPath(job.stderrPattern, names),
    cpus: job.cpus,
    ntasks_per_node: job.ntasksPerNode,
    cpus_per_task: job.cpusPerTask,
    memory_mb: job.memoryMb,
    time_limit_seconds: job.timeLimitSeconds,
    exclusive: job.exclusive,
  };
}
