/**
 * The tables, as drizzle sees them. The numbered SQL files in migrations/ create them; a test checks that both agree.
 */
import { sql } from 'drizzle-orm';
import {
  bigint,
  boolean,
  doublePrecision,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  smallint,
  text,
  timestamp,
  uuid,
} from 'drizzle-orm/pg-core';
import type { JobState } from '../job/job-state.js';
import type { RetryPolicy } from '../job/retry-policy.js';
import type { PendingReason } from '../job/pending-reason.js';
import type { JobChanges, JobEventKind } from '../job/job-change.js';
import type { NodeState } from '../node-state.js';
import type { ContainmentLevels } from '../protocol/containment.js';
import type { AppliedDirective } from '../job/applied-directive.js';
import type { OpenMode } from '../job/open-mode.js';
import type { WarnSignal } from '../job/warn-signal.js';
import type { DependencyKind } from '../job/dependency.js';
import type { UsageSource } from '../protocol/run-usage.js';

const time = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

export const jobs = pgTable('jobs', {
  id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
  account: text('account').notNull(),
  /** The Unix login the job runs as; null: it names none (an admin's job). The column is unix_user: see 0007. */
  user: text('unix_user'),
  name: text('name').notNull(),
  partition: text('partition').notNull(),
  state: text('state').$type<JobState>().notNull().default('PENDING'),
  reason: text('reason'),
  priority: integer('priority').notNull().default(0),
  requeue: boolean('requeue').notNull().default(false),
  /** How the job retries (shared/job/retry-policy.ts, migration 0026); null: never automatically. */
  retryPolicy: jsonb('retry_policy').$type<RetryPolicy>(),
  attempt: integer('attempt').notNull().default(0),
  submittedBy: text('submitted_by').notNull(),
  script: text('script').notNull(),
  workDir: text('work_dir'),
  stdoutPattern: text('stdout_pattern').notNull(),
  stderrPattern: text('stderr_pattern').notNull(),
  environment: jsonb('environment').$type<Record<string, string>>().notNull(),
  ntasksPerNode: integer('ntasks_per_node').notNull(),
  cpusPerTask: integer('cpus_per_task').notNull(),
  cpus: integer('cpus').notNull(),
  memoryMb: integer('memory_mb').notNull(),
  timeLimitSeconds: integer('time_limit_seconds'),
  exclusive: boolean('exclusive').notNull().default(false),
  nodeName: text('node_name'),
  cpuIds: integer('cpu_ids').array(),
  pid: integer('pid'),
  exitStatus: integer('exit_status'),
  exitSignal: integer('exit_signal'),
  errorMsg: text('error_msg'),
  cancelRequestedAt: time('cancel_requested_at'),
  submitTime: time('submit_time').notNull().defaultNow(),
  eligibleTime: time('eligible_time').notNull().defaultNow(),
  startTime: time('start_time'),
  endTime: time('end_time'),
  /** When retention deleted its stored output (migration 0016); null while it is kept. */
  outputPurgedAt: time('output_purged_at'),
  enqueued: boolean('enqueued').notNull().default(true),
  warnings: jsonb('warnings')
    .$type<string[]>()
    .notNull()
    .default(sql`'[]'::jsonb`),
  /** The node's confirm sequence when it was handed this attempt (migration 0010); null before it ran anywhere. */
  confirmSeq: bigint('confirm_seq', { mode: 'number' }),
  /**
   * Stored before cluster ids (migration 0013): its output may be under the old keys, without the cluster id, and is
   * read there when the cluster's keys hold none. False for every job stored since.
   */
  legacyLogKeys: boolean('legacy_log_keys').notNull().default(false),
  /** sbatch's --open-mode for its output files (migration 0015: rows stored before append). */
  openMode: text('open_mode').$type<OpenMode>().notNull().default('append'),
  /** sbatch's --signal; null: no warning before the time limit. */
  warnSignal: jsonb('warn_signal').$type<WarnSignal>(),
  /** The #SBATCH / #CONDUCTOR lines a /v1 submit applied, in script order. */
  directives: jsonb('directives')
    .$type<AppliedDirective[]>()
    .notNull()
    .default(sql`'[]'::jsonb`),
  /** sbatch's --nice (migration 0020): subtracted from the computed priority; users may only raise it. */
  nice: integer('nice').notNull().default(0),
  /** An admin's absolute priority (scontrol update Priority=); null: the recompute sets `priority`. */
  adminPriority: integer('admin_priority'),
  /** Bytes of output its runs stored, as the daemon reported at the end; null: not reported. */
  outputBytes: bigint('output_bytes', { mode: 'number' }),
  /** A job array's task (migration 0022): the id of the array's first task (Slurm's ArrayJobId, %A); null otherwise. */
  arrayJobId: bigint('array_job_id', { mode: 'number' }),
  /** A job array's task: its index in the array (ArrayTaskId, %a); null otherwise. */
  arrayTaskId: integer('array_task_id'),
  /** Migration 0023: the stored wait a hold replaced, given back by its release (api/jobs/hold-jobs.ts); else null. */
  reasonBeforeHold: text('reason_before_hold').$type<PendingReason>(),
  /** A job array's task (migration 0025): the array's indexes, as shared/job/array-spec.ts formats them ("0-999"). */
  arrayIndexes: text('array_indexes'),
  /** A job array's task: the array's %N cap on tasks running at once; null: none (or not an array's task). */
  arrayTaskLimit: integer('array_task_limit'),
  /**
   * Migration 0029: a job may depend on this one (set by a dependent's submit, never cleared); false means none does,
   * so its start and end look for no dependents (api/jobs/dependencies/settle-dependents.ts).
   */
  hasDependents: boolean('has_dependents').notNull().default(false),
});

export const jobEvents = pgTable('job_events', {
  id: bigint('id', { mode: 'number' }).primaryKey().generatedByDefaultAsIdentity(),
  jobId: bigint('job_id', { mode: 'number' })
    .notNull()
    .references(() => jobs.id, { onDelete: 'cascade' }),
  attempt: integer('attempt').notNull(),
  fromState: text('from_state').$type<JobState>(),
  toState: text('to_state').$type<JobState>().notNull(),
  at: time('at').notNull().defaultNow(),
  actor: text('actor').notNull(),
  reason: text('reason'),
  /** Migration 0023: a transition, or a change made while the job waited (hold, release, update). */
  kind: text('kind').$type<JobEventKind>().notNull().default('transition'),
  /** What a hold, release or update changed; null for a transition. */
  changes: jsonb('changes').$type<JobChanges>(),
});

/**
 * What each run used (migration 0027, api/jobs/run-usage.ts): one row per attempt that ran and reported it. Times in
 * ms, memory in bytes; each source 'cgroup' or 'rusage' (shared/protocol/run-usage.ts).
 */
export const runUsage = pgTable(
  'run_usage',
  {
    jobId: bigint('job_id', { mode: 'number' })
      .notNull()
      .references(() => jobs.id, { onDelete: 'cascade' }),
    attempt: integer('attempt').notNull(),
    nodeName: text('node_name').notNull(),
    cpuUserMs: bigint('cpu_user_ms', { mode: 'number' }).notNull(),
    cpuSystemMs: bigint('cpu_system_ms', { mode: 'number' }).notNull(),
    maxRssBytes: bigint('max_rss_bytes', { mode: 'number' }),
    wallMs: bigint('wall_ms', { mode: 'number' }).notNull(),
    cpuSource: text('cpu_source').$type<UsageSource>().notNull(),
    memorySource: text('memory_source').$type<UsageSource>(),
    recordedAt: time('recorded_at').notNull().defaultNow(),
  },
  (table) => [primaryKey({ columns: [table.jobId, table.attempt] })],
);

/**
 * A dependent job's conditions (sbatch --dependency, migration 0024, api/jobs/dependencies/): one row per condition,
 * in the order given; `satisfied` null while undecided, true for good, false when it never can be.
 */
export const jobDependencies = pgTable(
  'job_dependencies',
  {
    jobId: bigint('job_id', { mode: 'number' })
      .notNull()
      .references(() => jobs.id, { onDelete: 'cascade' }),
    position: integer('position').notNull(),
    kind: text('kind').$type<DependencyKind>().notNull(),
    parentId: bigint('parent_id', { mode: 'number' }),
    anyOf: boolean('any_of').notNull(),
    killOnInvalid: boolean('kill_on_invalid').notNull(),
    satisfied: boolean('satisfied'),
  },
  (table) => [primaryKey({ columns: [table.jobId, table.position] })],
);

export const queueRefs = pgTable('queue_refs', {
  jobId: bigint('job_id', { mode: 'number' }).primaryKey(),
  partition: text('partition').notNull(),
  cpus: integer('cpus').notNull(),
  memoryMb: integer('memory_mb').notNull(),
  priority: integer('priority').notNull(),
  exclusive: boolean('exclusive').notNull(),
  user: text('unix_user'),
  /** Null: UNLIMITED (never backfilled). */
  timeLimitSeconds: integer('time_limit_seconds'),
  claimedBy: text('claimed_by'),
  claimedAt: time('claimed_at'),
});

export const queueHeads = pgTable('queue_heads', {
  partition: text('partition').primaryKey(),
  jobId: bigint('job_id', { mode: 'number' }).notNull(),
  since: time('since').notNull(),
});

export const nodes = pgTable('nodes', {
  name: text('name').primaryKey(),
  partitions: text('partitions').array().notNull(),
  cpus: integer('cpus').notNull(),
  memoryMb: integer('memory_mb').notNull(),
  state: text('state').$type<NodeState>().notNull().default('UP'),
  drained: boolean('drained').notNull().default(false),
  lastHeartbeat: time('last_heartbeat'),
  registeredAt: time('registered_at').notNull().defaultNow(),
  daemonVersion: text('daemon_version'),
  protocol: integer('protocol'),
  /** How the node contains its jobs, per concern (shared/protocol/containment.ts); NULL until its daemon says. */
  containment: jsonb('containment').$type<ContainmentLevels>(),
  /** How the node runs jobs (shared/protocol/runs-as.ts), as its last heartbeat said. */
  runsAnyUser: boolean('runs_any_user').notNull().default(false),
  runsUsers: text('runs_users')
    .array()
    .notNull()
    .default(sql`'{}'::text[]`),
  runsUnnamed: boolean('runs_unnamed').notNull().default(true),
  /** Raised by every confirm that hands the node jobs (migration 0010). */
  confirmSeq: bigint('confirm_seq', { mode: 'number' }).notNull().default(0),
  /**
   * Renewed by each heartbeat (migration 0014): the node's jobs are settled as lost only once it has passed; NULL, a
   * lease that never expires (CONDUCTOR_NODE_LEASE_SECONDS=never).
   */
  leaseExpiresAt: time('lease_expires_at'),
  /** Why it was drained, by whom and when (migration 0019, Slurm's sinfo -R); null while it is not drained. */
  reason: text('reason'),
  reasonUser: text('reason_user'),
  reasonAt: time('reason_at'),
});

export const TOKEN_KINDS = ['admin', 'user', 'node'] as const;
export type TokenKind = (typeof TOKEN_KINDS)[number];

export const apiTokens = pgTable('api_tokens', {
  id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
  name: text('name').notNull(),
  kind: text('kind').$type<TokenKind>().notNull(),
  account: text('account'),
  /** A user token's Unix user; null for other kinds, and for a user token stored before 0007 whose name was not one. */
  user: text('unix_user'),
  nodeName: text('node_name'),
  /** A node token's grant: the partitions its node may serve (migration 0008). Null for the other kinds. */
  partitions: text('partitions').array(),
  hash: text('hash').notNull().unique(),
  createdAt: time('created_at').notNull().defaultNow(),
  revokedAt: time('revoked_at'),
});

/** Open follow streams of each holder (a token), for the Postgres queue's hosts (migration 0009). */
export const followLeases = pgTable('follow_leases', {
  leaseId: text('lease_id').primaryKey(),
  holder: text('holder').notNull(),
  expiresAt: time('expires_at').notNull(),
});

/**
 * Submits' idempotency keys and the answer each first had, kept 24 h (migration 0012, api/jobs/idempotent-submit.ts).
 * `jobId`, `status` and `body` are null only inside the transaction that writes the key and its job.
 */
export const idempotencyKeys = pgTable(
  'idempotency_keys',
  {
    scope: text('scope').notNull(),
    key: text('key').notNull(),
    requestHash: text('request_hash').notNull(),
    jobId: bigint('job_id', { mode: 'number' }).references(() => jobs.id, { onDelete: 'cascade' }),
    status: smallint('status'),
    body: text('body'),
    createdAt: time('created_at').notNull().defaultNow(),
  },
  (table) => [primaryKey({ columns: [table.scope, table.key] })],
);

/** This database's cluster id, made by migration 0013: one row. */
export const clusterIdentity = pgTable('cluster_identity', {
  singleton: boolean('singleton').primaryKey().default(true),
  clusterId: uuid('cluster_id').notNull().defaultRandom(),
  createdAt: time('created_at').notNull().defaultNow(),
});

/** The minutes the utilisation history has sampled (migration 0018), with each partition's CPUs then. */
export const utilisationMinutes = pgTable('utilisation_minutes', {
  minute: time('minute').primaryKey(),
  cpusTotal: jsonb('cpus_total').$type<Record<string, number>>().notNull(),
  sampledAt: time('sampled_at').notNull().defaultNow(),
});

/** One partition and account's figures in a sampled minute (api/stats/sample-utilisation.ts). */
export const utilisationSamples = pgTable(
  'utilisation_samples',
  {
    minute: time('minute')
      .notNull()
      .references(() => utilisationMinutes.minute, { onDelete: 'cascade' }),
    partition: text('partition').notNull(),
    account: text('account').notNull(),
    pending: integer('pending').notNull(),
    running: integer('running').notNull(),
    cpusAllocated: integer('cpus_allocated').notNull(),
    finishedCompleted: integer('finished_completed').notNull(),
    finishedFailed: integer('finished_failed').notNull(),
    finishedCancelled: integer('finished_cancelled').notNull(),
    finishedTimeout: integer('finished_timeout').notNull(),
    finishedOutOfMemory: integer('finished_out_of_memory').notNull(),
    finishedNodeFail: integer('finished_node_fail').notNull(),
    /** The waits (start − submit, seconds) of the jobs started in the minute, sorted. */
    waitSeconds: integer('wait_seconds').array().notNull(),
  },
  (table) => [primaryKey({ columns: [table.minute, table.partition, table.account] })],
);

export const PARTITION_STATES = ['UP', 'DOWN', 'DRAIN', 'INACTIVE'] as const;
/** Slurm's partition states (slurm.conf State=): DRAIN and INACTIVE refuse submits; DOWN and INACTIVE start nothing. */
export type PartitionState = (typeof PARTITION_STATES)[number];

/** Configured partitions (migration 0020): null limits are none, null allowAccounts is every account. */
export const partitions = pgTable('partitions', {
  name: text('name').primaryKey(),
  state: text('state').$type<PartitionState>().notNull().default('UP'),
  allowAccounts: text('allow_accounts').array(),
  defaultTimeSeconds: integer('default_time_seconds'),
  maxTimeSeconds: integer('max_time_seconds'),
  maxCpusPerJob: integer('max_cpus_per_job'),
  maxMemoryMbPerJob: integer('max_memory_mb_per_job'),
  priorityTier: integer('priority_tier').notNull().default(1),
  isDefault: boolean('is_default').notNull().default(false),
  createdAt: time('created_at').notNull().defaultNow(),
  updatedAt: time('updated_at').notNull().defaultNow(),
});

/** Accounts' limits and fair-share shares (migration 0020): null limits are none; no row is no limits, 1 share. */
export const accounts = pgTable('accounts', {
  name: text('name').primaryKey(),
  maxRunningCpus: integer('max_running_cpus'),
  maxRunningJobs: integer('max_running_jobs'),
  maxPendingJobs: integer('max_pending_jobs'),
  maxSubmitsPerMinute: integer('max_submits_per_minute'),
  maxStoredOutputBytes: bigint('max_stored_output_bytes', { mode: 'number' }),
  fairshareShares: integer('fairshare_shares').notNull().default(1),
  createdAt: time('created_at').notNull().defaultNow(),
  updatedAt: time('updated_at').notNull().defaultNow(),
});

/** Each account's decayed CPU-seconds as of `decayedAt` (fair share). */
export const accountUsage = pgTable('account_usage', {
  account: text('account').primaryKey(),
  usageCpuSeconds: doublePrecision('usage_cpu_seconds').notNull().default(0),
  decayedAt: time('decayed_at').notNull().defaultNow(),
  /** 2^(-usage share / shares share) as of the last recompute; 1 for an account without usage. */
  fairshareFactor: doublePrecision('fairshare_factor').notNull().default(1),
});

/** Partitions whose refs the Postgres queue's claims skip (DOWN or INACTIVE), rebuilt from `partitions`. */
export const queuePaused = pgTable('queue_paused', {
  partition: text('partition').primaryKey(),
});

/** One row: how far run time has been charged to account_usage, and when priorities were last recomputed. */
export const schedulerClock = pgTable('scheduler_clock', {
  singleton: boolean('singleton').primaryKey().default(true),
  chargedUntil: time('charged_until').notNull().defaultNow(),
  priorityComputedAt: time('priority_computed_at'),
  /** Which reconciler runs now, and until when at the latest (api/reconciler-lease.ts). */
  reconcilerHolder: text('reconciler_holder'),
  reconcilerLeaseUntil: time('reconciler_lease_until'),
});

export const schema = {
  jobs,
  jobEvents,
  jobDependencies,
  runUsage,
  queueRefs,
  queueHeads,
  nodes,
  apiTokens,
  followLeases,
  idempotencyKeys,
  clusterIdentity,
  utilisationMinutes,
  utilisationSamples,
  partitions,
  accounts,
  accountUsage,
  schedulerClock,
  queuePaused,
};

export type JobRow = typeof jobs.$inferSelect;
export type JobEventRow = typeof jobEvents.$inferSelect;
export type RunUsageRow = typeof runUsage.$inferSelect;
export type NodeRow = typeof nodes.$inferSelect;
export type TokenRow = typeof apiTokens.$inferSelect;
export type PartitionRow = typeof partitions.$inferSelect;
export type AccountRow = typeof accounts.$inferSelect;
