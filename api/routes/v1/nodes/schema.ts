/** The API's side of the node endpoints: the path parameter, and its views of rows as the protocol sends them. */
import { z } from '@hono/zod-openapi';
import type { JobRow } from '../../../../shared/db/schema.js';
import { expandOutputPath } from '../../../../shared/job/output-path.js';
import { arrayEnvironment, outputNames } from '../../../jobs/array-task-view.js';
import { identifier } from '../../../../shared/names.js';
import { NODE_STATES } from '../../../../shared/node-state.js';
import type { Ref } from '../../../../shared/protocol/claim.js';
import { ContainmentLevels } from '../../../../shared/protocol/containment.js';
import type { NodeJob } from '../../../../shared/protocol/confirm.js';
import { RunsAs } from '../../../../shared/protocol/runs-as.js';
import type { JobRef } from '../../../../shared/queue/job-queue.js';
import type { NodeUsage } from '../../../nodes/node-usage.js';
import { timestamp } from '../jobs/schema.js';

export const NodeParam = z.object({
  node: identifier('node').openapi({ param: { name: 'node', in: 'path' }, example: 'n01' }),
});

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
    lease_expires_at: timestamp.nullable().openapi({
      description:
        "When the node's lease ends unless a heartbeat renews it: then its runs have been stopped there, and the reconciler settles its jobs. null: a lease that never expires (CONDUCTOR_NODE_LEASE_SECONDS=never).",
    }),
    registered_at: timestamp,
    daemon_version: z.string().nullable().openapi({ description: 'Its daemon software; null before protocol 2.' }),
    protocol: z.number().int().nullable().openapi({ description: 'The node protocol version its daemon speaks.' }),
    containment: ContainmentLevels.nullable().openapi({
      description:
        "How the node contains its jobs, per concern (the README's containment section); null until its daemon says.",
    }),
    runs_as: RunsAs.openapi({
      description:
        'How it runs jobs, as its last heartbeat said (protocol 3 on); a daemon of protocol 2 runs only jobs naming no user.',
    }),
    running_jobs: z.number().int().openapi({ description: 'How many jobs are RUNNING on it.' }),
    reason: z.string().nullable().openapi({
      description:
        "Why it was drained (the drain's reason, as sinfo -R shows it); null when not drained or none given.",
    }),
    reason_set_by: z.string().nullable().openapi({
      description: 'Who drained it (admin:<token name>); null when not drained.',
      example: 'admin:ops',
    }),
    reason_set_at: timestamp.nullable().openapi({ description: 'When it was drained; null when not drained.' }),
  })
  .openapi('Node');

export function nodeView({ node, cpusAllocated, memoryAllocatedMb, runningJobs }: NodeUsage): z.infer<typeof Node> {
  return {
    name: node.name,
    state: node.state,
    partitions: node.partitions,
    cpus: node.cpus,
    memory_mb: node.memoryMb,
    cpus_allocated: cpusAllocated,
    memory_allocated_mb: memoryAllocatedMb,
    last_heartbeat: node.lastHeartbeat?.toISOString() ?? null,
    lease_expires_at: node.leaseExpiresAt?.toISOString() ?? null,
    registered_at: node.registeredAt.toISOString(),
    daemon_version: node.daemonVersion,
    protocol: node.protocol,
    containment: node.containment,
    runs_as: { any_user: node.runsAnyUser, users: node.runsUsers, unnamed: node.runsUnnamed },
    running_jobs: runningJobs,
    reason: node.reason,
    reason_set_by: node.reasonUser,
    reason_set_at: node.reasonAt?.toISOString() ?? null,
  };
}

export function refView(ref: JobRef): z.infer<typeof Ref> {
  return {
    id: String(ref.id),
    partition: ref.partition,
    cpus: ref.cpus,
    memory_mb: ref.memoryMb,
    priority: ref.priority,
    exclusive: ref.exclusive,
    user: ref.user,
    time_limit_seconds: ref.timeLimitSeconds,
  };
}

/**
 * A confirmed job as its node runs it, its output paths expanded for that node (%N; the job's node_name is it).
 * `unnamedLogin`: who the node runs jobs naming no user as (runsUnnamedAs), their %u.
 */
export function nodeJobView(job: JobRow, unnamedLogin: string | null = null): z.infer<typeof NodeJob> {
  const names = { ...outputNames(job), user: job.user ?? unnamedLogin, node: job.nodeName };
  return {
    id: String(job.id),
    attempt: job.attempt,
    name: job.name,
    account: job.account,
    user: job.user,
    partition: job.partition,
    script: job.script,
    // An array's task gets its SLURM_ARRAY_* here, as slurmd sets them, over any the submit named.
    environment: { ...job.environment, ...arrayEnvironment(job) },
    current_working_directory: job.workDir,
    standard_output: expandOutputPath(job.stdoutPattern, names),
    standard_error: expandOutputPath(job.stderrPattern, names),
    cpus: job.cpus,
    ntasks_per_node: job.ntasksPerNode,
    cpus_per_task: job.cpusPerTask,
    memory_mb: job.memoryMb,
    time_limit_seconds: job.timeLimitSeconds,
    exclusive: job.exclusive,
    open_mode: job.openMode,
    signal:
      job.warnSignal === null
        ? null
        : { signal: job.warnSignal.signal, seconds: job.warnSignal.seconds, batch_only: job.warnSignal.batchOnly },
  };
}
