/**
 * Partitions on the wire: the path parameter, the PUT body (Slurm's PartitionName settings, slurm.conf(5), in
 * snake_case), and the view of a partition with the nodes that serve it.
 */
import { z } from '@hono/zod-openapi';
import { PARTITION_STATES } from '../../../../shared/db/schema.js';
import { formatMemorySize, MemorySizeError, parseMemorySize } from '../../../../shared/job/memory-size.js';
import { refineWith } from '../../../../shared/job/submit-request.js';
import { formatElapsed, parseTimeLimit, TimeLimitError } from '../../../../shared/job/time-limit.js';
import { identifier } from '../../../../shared/names.js';
import type { PartitionSettings, PartitionWithNodes } from '../../../partitions/partition-store.js';

/** Slurm's largest PriorityTier (slurm.conf(5)). */
const MAX_PRIORITY_TIER = 65533;
const MAX_ALLOWED_ACCOUNTS = 1000;

export const PartitionParam = z.object({
  name: identifier('partition').openapi({ param: { name: 'name', in: 'path' }, example: 'batch' }),
});

const time = z
  .union([z.string(), z.number().int()], { error: 'must be a Slurm time such as "1-00:00:00", or minutes' })
  .superRefine(refineWith(parseTimeLimit, TimeLimitError));

const memory = z
  .union([z.string(), z.number().int()], { error: 'must be a size such as "16G", or a whole number of megabytes' })
  .superRefine(refineWith(parseMemorySize, MemorySizeError));

export const PutPartitionRequest = z
  .object({
    state: z.enum(PARTITION_STATES).optional().openapi({
      description:
        'UP (the default); DOWN takes jobs but starts none; DRAIN starts the jobs it holds but takes no new ones; INACTIVE neither takes nor starts any.',
    }),
    allow_accounts: z
      .array(identifier('account'))
      .min(1)
      .max(MAX_ALLOWED_ACCOUNTS)
      .nullable()
      .optional()
      .openapi({
        description: 'The accounts that may submit to it; null or absent: all of them.',
        example: ['physics'],
      }),
    default_time: time.nullable().optional().openapi({
      description:
        'The time limit of a job that gives none, in Slurm formats (a plain number is minutes); null or absent: 1:00:00, or max_time when shorter. Not "UNLIMITED": a job must ask for that itself.',
      example: '1:00:00',
    }),
    max_time: time.nullable().optional().openapi({
      description: 'The longest time limit a job may ask for; "UNLIMITED", null or absent: no maximum.',
      example: '1-00:00:00',
    }),
    max_cpus_per_job: z
      .number()
      .int()
      .min(1)
      .max(2 ** 31 - 1)
      .nullable()
      .optional()
      .openapi({
        description: 'The most CPUs (ntasks_per_node × cpus_per_task) a job may ask for; null or absent: no maximum.',
      }),
    max_memory_per_job: memory.nullable().optional().openapi({
      description:
        'The most memory a job may ask for (K, M, G or T; a bare number is megabytes); null or absent: no maximum.',
      example: '64G',
    }),
    priority_tier: z.number().int().min(0).max(MAX_PRIORITY_TIER).optional().openapi({
      description: "Slurm's PriorityTier: weighs into its jobs' priority. Defaults to 1.",
    }),
    default: z.boolean().optional().openapi({
      description:
        'true: this becomes the default partition (jobs that name none go to it), taking the mark from the old one in the same transaction. false: it stops being the default. Absent: unchanged (a new partition is not the default).',
    }),
  })
  .strict()
  .superRefine((body, ctx) => {
    // Runs even when a field was refused: those are left to their own issue.
    const defaultTime = readable(body.default_time);
    const maxTime = readable(body.max_time);
    if (defaultTime === null) {
      ctx.addIssue({ code: 'custom', path: ['default_time'], message: 'must be a time, not "UNLIMITED"' });
    } else if (typeof defaultTime === 'number' && typeof maxTime === 'number' && defaultTime > maxTime) {
      ctx.addIssue({ code: 'custom', path: ['default_time'], message: 'must not be longer than max_time' });
    }
  })
  .openapi('PutPartitionRequest');

/** The seconds of a time that was sent and reads (null: UNLIMITED); undefined when not sent or unreadable. */
function readable(value: string | number | null | undefined): number | null | undefined {
  if (value == null) return undefined;
  try {
    return parseTimeLimit(value);
  } catch {
    return undefined;
  }
}

export type PutPartitionRequest = z.infer<typeof PutPartitionRequest>;

/** The settings a valid PUT body stands for: what it leaves out is the partition without that limit. */
export function partitionSettings(body: PutPartitionRequest): PartitionSettings {
  return {
    state: body.state ?? 'UP',
    allowAccounts: body.allow_accounts ?? null,
    defaultTimeSeconds: body.default_time == null ? null : parseTimeLimit(body.default_time),
    maxTimeSeconds: body.max_time == null ? null : parseTimeLimit(body.max_time),
    maxCpusPerJob: body.max_cpus_per_job ?? null,
    maxMemoryMbPerJob: body.max_memory_per_job == null ? null : parseMemorySize(body.max_memory_per_job),
    priorityTier: body.priority_tier ?? 1,
    isDefault: body.default,
  };
}

export const Partition = z
  .object({
    name: z.string(),
    state: z.enum(PARTITION_STATES),
    allow_accounts: z.array(z.string()).nullable().openapi({ description: 'null: every account (ALL).' }),
    default_time: z
      .string()
      .nullable()
      .openapi({ description: '[D-]HH:MM:SS; null: 1:00:00, or max_time when shorter.' }),
    max_time: z.string().openapi({ description: '[D-]HH:MM:SS, or "UNLIMITED".' }),
    max_cpus_per_job: z.number().int().nullable().openapi({ description: 'null: no maximum.' }),
    max_memory_per_job: z.string().nullable().openapi({ description: 'As "64G"; null: no maximum.' }),
    priority_tier: z.number().int(),
    default: z.boolean().openapi({ description: 'Jobs that name no partition go to this one.' }),
    nodes: z.number().int().openapi({ description: 'Registered nodes that serve it, in any state.' }),
    nodes_up: z.number().int().openapi({ description: 'Of those, the ones UP (not draining, not down).' }),
    cpus: z.number().int().openapi({ description: 'The CPUs of its nodes that are not down.' }),
    created_at: z.string().openapi({ format: 'date-time' }),
    updated_at: z.string().openapi({ format: 'date-time' }),
  })
  .openapi('Partition');

export function partitionView(row: PartitionWithNodes): z.infer<typeof Partition> {
  return {
    name: row.name,
    state: row.state,
    allow_accounts: row.allowAccounts,
    default_time: row.defaultTimeSeconds === null ? null : formatElapsed(row.defaultTimeSeconds),
    max_time: row.maxTimeSeconds === null ? 'UNLIMITED' : formatElapsed(row.maxTimeSeconds),
    max_cpus_per_job: row.maxCpusPerJob,
    max_memory_per_job: row.maxMemoryMbPerJob === null ? null : formatMemorySize(row.maxMemoryMbPerJob),
    priority_tier: row.priorityTier,
    default: row.isDefault,
    nodes: row.nodes,
    nodes_up: row.nodesUp,
    cpus: row.cpus,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
  };
}
