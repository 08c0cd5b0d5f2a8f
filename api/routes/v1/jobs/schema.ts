import { z } from '@hono/zod-openapi';
import { JOB_EVENT_KINDS } from '../../../../shared/job/job-change.js';
import { JOB_STATES } from '../../../../shared/job/job-state.js';
import { OPEN_MODES } from '../../../../shared/job/open-mode.js';
import { RETRY_CLASSES } from '../../../../shared/job/retry-policy.js';
import { JobDescription, refineWith } from '../../../../shared/job/submit-request.js';
import { DependencyError, parseDependency } from '../../../../shared/job/dependency.js';
import { RunUsage } from '../../../../shared/protocol/run-usage.js';
import { identifier, label, UNIX_USER_PATTERN } from '../../../../shared/names.js';
import { isListCursor } from '../../../jobs/list-cursor.js';

export const JobState = z.enum(JOB_STATES).openapi('JobState');

/** A job's id (42), or an array task's as squeue shows it (123_7): api/jobs/find-job.ts. */
export const JobIdParam = z.object({
  id: z
    .string()
    .regex(/^[1-9][0-9]{0,14}(_[0-9]{1,5})?$/, "must be a job id (a positive integer) or an array task's (123_7)")
    .openapi({ param: { name: 'id', in: 'path' }, example: '42' }),
});

export const JobEvent = z
  .object({
    attempt: z.number().int(),
    from_state: JobState.nullable().openapi({ description: 'null for the submission' }),
    to_state: JobState,
    at: z.string().openapi({ format: 'date-time' }),
    actor: z.string().openapi({ example: 'user:alice' }),
    reason: z.string().nullable(),
    kind: z.enum(JOB_EVENT_KINDS).openapi({
      description:
        'transition: the job changed state (from_state → to_state). hold, release, update: a change made while it waited (scontrol hold, release, update), from_state = to_state.',
    }),
    changes: z
      .record(z.string(), z.object({ from: z.unknown(), to: z.unknown() }))
      .nullable()
      .openapi({
        description:
          'What a hold, release or update changed, field by field (reason, time_limit in seconds, nice, partition, name, eligible_time); null for a transition.',
        example: { time_limit: { from: 3600, to: 1800 } },
      }),
  })
  .openapi('JobEvent');

/** UTC, ISO-8601, with Z. */
export const timestamp = z.string().openapi({ format: 'date-time', example: '2026-11-28T14:00:00.000Z' });

export const Job = z
  .object({
    id: z.string().openapi({ example: '42' }),
    display_id: z.string().openapi({
      description:
        'The id as squeue shows it: an array task\'s is <array_job_id>_<array_task_id> ("123_7"), accepted wherever a job id is; a collapsed row of an array\'s PENDING tasks is <array_job_id>_[<indexes>] ("123_[8-999%50]"); else the id.',
      example: '123_7',
    }),
    array_job_id: z.string().nullable().openapi({
      description: "A job array's task: the array's id (Slurm's ArrayJobId, the id of its first task, %A); else null.",
    }),
    array_task_id: z
      .number()
      .int()
      .nullable()
      .openapi({ description: "A job array's task: its index (Slurm's ArrayTaskId, %a); else null." }),
    array: z.string().nullable().openapi({
      description: 'A job array\'s task: the array\'s indexes and %N cap, as submitted ("0-999%50"); else null.',
    }),
    name: z.string(),
    account: z.string(),
    user: z.string().nullable().openapi({
      description: "The Unix login the job runs as; null: it names none (an admin's job, run as root where allowed).",
    }),
    partition: z.string(),
    state: JobState,
    reason: z.string().nullable().openapi({
      description:
        "Why a PENDING job waits, Slurm's code, decided when it is read (GET, list, dashboards), first that applies: AssocGrpCpuLimit / AssocMaxJobsLimit (its account's running limit holds it), PartitionInactive, PartitionDown, PartitionNoNodes (no node serves its partition), NodeDown (every node of it is DOWN), ReqNodeNotAvail (no UP node may take it: all drained, or none runs its owner), Resources (next in its partition, waits for room), Priority (jobs ahead of it). GET /v1/jobs/{id}/why explains it node by node. Null once it left PENDING.",
    }),
    reason_detail: z.string().nullable().openapi({
      description: 'The reason in words, for a PENDING job; null otherwise.',
      example: 'no UP node of partition batch runs jobs as alice',
    }),
    priority: z.number().int(),
    requeue: z.boolean(),
    attempt: z.number().int().openapi({ description: 'How many times the job has been started.' }),
    submitted_by: z.string(),
    cpus: z.number().int(),
    ntasks_per_node: z.number().int(),
    cpus_per_task: z.number().int(),
    memory_per_node: z.string().openapi({ example: '16G' }),
    time_limit: z.string().openapi({ description: 'D-HH:MM:SS, or "UNLIMITED".', example: '0-01:00:00' }),
    exclusive: z.boolean(),
    current_working_directory: z.string().nullable(),
    standard_output: z.string().openapi({
      description:
        "With its patterns expanded: %j, %x, %u (the job's user; left as %u for a job naming none, which runs as its node's own user), %N once the job has a node.",
    }),
    standard_error: z.string().openapi({
      description: 'The same; equal to standard_output when both streams go to one file (stored once, as stdout).',
    }),
    node: z.string().nullable(),
    cpu_ids: z.array(z.number().int()).nullable(),
    exit_code: z
      .object({ status: z.number().int().nullable(), signal: z.number().int().nullable() })
      .nullable()
      .openapi({ description: 'Exit status and terminating signal, kept apart; null until the job ended.' }),
    error_msg: z.string().nullable(),
    cancel_requested: z.boolean(),
    open_mode: z.enum(OPEN_MODES).openapi({ description: 'How its output files are opened (sbatch --open-mode).' }),
    signal: z
      .string()
      .nullable()
      .openapi({ description: 'The warning signal before the time limit (sbatch --signal), as [B:]SIG@seconds.' }),
    directives: z
      .array(z.object({ line: z.number().int(), option: z.string() }))
      .openapi({ description: 'The #SBATCH / #CONDUCTOR lines of the script the submit applied, with their lines.' }),
    warnings: z.array(z.string()).openapi({
      description:
        "What the submit ignored: on /v1, the script's directives with no effect here (--mail-user, …), those a body field overrode and those after its first command (not read, as in sbatch), each as `line N: <option>: <why>`; on the original path, the unknown fields it was sent.",
    }),
    submit_time: timestamp,
    eligible_time: timestamp,
    start_time: timestamp.nullable(),
    end_time: timestamp.nullable(),
    wait_seconds: z.number().int().nullable().openapi({
      description: 'Seconds from submit to start (of the current attempt); null until it started.',
    }),
    elapsed_seconds: z.number().int().nullable().openapi({
      description: 'Seconds from start to end, or to now while it runs; null until it started.',
    }),
  })
  .openapi('Job');

const weighted = (what: string) =>
  z.number().openapi({ description: `${what}, times its weight (0 to the weight), as sprio -l shows it.` });

export const PriorityFactors = z
  .object({
    age: weighted('How long it has waited, as a share of CONDUCTOR_PRIORITY_MAX_AGE'),
    fair_share: weighted("Its account's fair-share factor (1: used nothing lately; 0.5: used its share)"),
    job_size: weighted("Its CPUs' share of the cluster's"),
    partition: weighted("Its partition's priority tier, as a share of the highest"),
    nice: z.number().int().openapi({ description: 'Subtracted from the factors’ sum (sbatch --nice).' }),
    admin_set: z.boolean().openapi({
      description: 'An admin set its priority: it keeps that one, not the sum of its factors.',
    }),
  })
  .openapi('PriorityFactors', {
    description:
      "What a PENDING job's priority is made of, as of now: round(age + fair_share + job_size + partition) − nice, recomputed every CONDUCTOR_PRIORITY_RECOMPUTE_SECONDS.",
  });

/** A job's retry policy as stored, every field filled in (shared/job/retry-policy.ts). */
export const JobRetryPolicy = z
  .object({
    on: z.array(z.enum(RETRY_CLASSES)),
    exit_codes: z.array(z.number().int()),
    max_attempts: z.number().int(),
    backoff_seconds: z.number().int(),
    oom_memory_factor: z.number(),
  })
  .openapi('JobRetryPolicy');

// Its own object (not an allOf over RunUsage): a null JobUsage is then typed as one in the spec and the SDK.
export const JobUsage = z
  .object({
    ...RunUsage.shape,
    attempt: z.number().int().openapi({ description: 'The run (attempt) these figures are of: the latest that ran.' }),
    node: z.string().openapi({ description: 'The node it ran on.' }),
  })
  .openapi('JobUsage', {
    description:
      "What the job's latest run used, as its node measured it at its end (sacct's UserCPU, SystemCPU, MaxRSS, Elapsed).",
  });

export const JobEfficiency = z
  .object({
    cpu_percent: z.number().nullable().openapi({
      description: "seff's CPU Efficiency: (user + system CPU time) / (wall time × allocated CPUs), in %.",
      example: 87.5,
    }),
    memory_percent: z.number().nullable().openapi({
      description: "seff's Memory Efficiency: max RSS / memory requested, in %; null when max RSS is unknown.",
      example: 40.1,
    }),
  })
  .openapi('JobEfficiency');

/** What the job's latest run used, and how well (seff): both null until a run of it reported its end. */
const accounting = {
  usage: JobUsage.nullable(),
  efficiency: JobEfficiency.nullable(),
};

/** A job as listed: with what its latest run used. */
export const ListedJob = Job.extend(accounting).openapi('ListedJob');

export const JobDetail = Job.extend({
  ...accounting,
  environment: z.record(z.string(), z.string()),
  script: z.string(),
  retry: JobRetryPolicy.nullable().openapi({
    description:
      "How the job is retried when a run ends (its body's retry over the defaults); null: never (requeue false).",
  }),
  priority_factors: PriorityFactors.nullable().openapi({
    description: 'Its priority factors while PENDING (as sprio); null otherwise.',
  }),
  dependency: z.string().nullable().openapi({
    description:
      "The dependency conditions that remain, as squeue's %E: `afterok:12(unfulfilled),afterany:14(unfulfilled)`, one that can never be satisfied marked `(failed)`; null when none remain or it has none. reason_detail says what each waits for.",
    example: 'afterok:12(unfulfilled)',
  }),
}).openapi('JobDetail');

export const MAX_PAGE_SIZE = 500;

/** An RFC 3339 date-time with its offset (Z or ±hh:mm), as a query filter's bound. */
const dateTime = (description: string) =>
  z.iso
    .datetime({ offset: true, message: 'must be an RFC 3339 date-time, with Z or an offset' })
    .optional()
    .openapi({ description, example: '2026-11-28T00:00:00Z' });

/** The filters a listing and its CSV export share. */
/** A long poll's longest wait: under the idle timeouts of common proxies, and of a Worker's request. */
export const MAX_JOB_WAIT_SECONDS = 60;

export const JobWaitQuery = z.object({
  wait: z
    .string()
    .refine(
      (value) => value.split(',').every((state) => (JOB_STATES as readonly string[]).includes(state)),
      `must be one or more of ${JOB_STATES.join(', ')}, separated by commas`,
    )
    .transform((value) => value.split(',') as (typeof JOB_STATES)[number][])
    .optional()
    .openapi({ description: 'Answer once the job is in one of these states.', example: 'COMPLETED,FAILED' }),
  timeout: z.coerce
    .number()
    .int()
    .min(0)
    .max(MAX_JOB_WAIT_SECONDS)
    .default(30)
    .openapi({ description: `With wait: seconds to wait at most, 0 to ${MAX_JOB_WAIT_SECONDS}; 30 by default.` }),
});

export const JobFilterQuery = z.object({
  state: z
    .string()
    .refine(
      (value) => value.split(',').every((state) => (JOB_STATES as readonly string[]).includes(state)),
      `must be one or more of ${JOB_STATES.join(', ')}, separated by commas`,
    )
    .optional()
    .openapi({ description: 'One state, or several separated by commas.', example: 'PENDING,RUNNING' }),
  account: identifier('account').optional(),
  user: z
    .string()
    .regex(UNIX_USER_PATTERN, 'user must be a Unix login name')
    .optional()
    .openapi({ description: "Only this owner's jobs." }),
  partition: identifier('partition').optional(),
  name: label(256).optional(),
  submitted_after: dateTime('Only jobs submitted at or after this time.'),
  submitted_before: dateTime('Only jobs submitted before this time.'),
  ended_after: dateTime('Only jobs that ended at or after this time (so only ended ones).'),
  ended_before: dateTime('Only jobs that ended before this time (so only ended ones).'),
});

export const ListJobsQuery = JobFilterQuery.extend({
  order: z.enum(['newest', 'queue']).default('newest').openapi({
    description:
      'newest: every state, newest first. queue: as squeue lists them, RUNNING jobs (oldest submitted first) then PENDING ones in the order the scheduler considers them (priority, then submit order); other states are never listed in it, and `state` can narrow it to one of the two.',
  }),
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(MAX_PAGE_SIZE)
    .default(50)
    .openapi({ description: `1 to ${MAX_PAGE_SIZE}.` }),
  cursor: z
    .string()
    .refine(isListCursor, 'must be the next_cursor of a previous page')
    .optional()
    .openapi({ description: 'The next_cursor of the previous page, listed in the same order (opaque).' }),
  expand_arrays: z.enum(['true', 'false', '1', '0']).default('false').openapi({
    description:
      "As squeue's -r/--array: true lists every task of a job array as a row; by default an array's PENDING tasks are one row, its lowest-indexed PENDING task's, whose display_id names them all (\"123_[8-999%50]\").",
  }),
});

export const JobList = z
  .object({
    jobs: z.array(ListedJob),
    next_cursor: z.string().nullable().openapi({ description: 'Pass as cursor for the next page; null on the last.' }),
  })
  .openapi('JobList');

export const HoldRequest = z
  .object({
    user_hold: z.boolean().optional().openapi({
      description:
        "As scontrol uhold: hold as the job's user would (JobHeldUser, which its user may release), not as an admin (JobHeldAdmin). A user token's hold is always a user's. Defaults to false.",
      example: true,
    }),
  })
  .strict()
  .openapi('HoldRequest');

export const HoldResult = z
  .object({
    job: Job,
    effect: z.enum(['held', 'released', 'none']).openapi({
      description: 'held / released: the job is now so; none: it already was (asking twice changes nothing).',
    }),
  })
  .openapi('HoldResult');

/** The tasks an array's hold, release or update (by the array's id) found PENDING: those it changed, the others. */
const ArrayTaskCounts = z
  .object({
    changed: z.number().int().openapi({ description: 'PENDING tasks it changed, each with its own event.' }),
    unchanged: z.number().int().openapi({
      description: 'PENDING tasks that already were so. Tasks no longer PENDING are left alone and not counted.',
    }),
  })
  .openapi('ArrayTaskCounts');

export const ArrayHoldResult = z
  .object({
    array_job_id: z.string().openapi({ description: "The array's id (its first task's), as given.", example: '123' }),
    effect: z.enum(['held', 'released', 'none']).openapi({
      description: 'held / released: some PENDING task is now so; none: every PENDING task already was.',
    }),
    array_tasks: ArrayTaskCounts,
  })
  .openapi('ArrayHoldResult');

export const CancelResult = z
  .object({
    job: Job,
    effect: z.enum(['cancelled', 'cancel_requested', 'none']).openapi({
      description:
        'cancelled: the PENDING job is now CANCELLED; cancel_requested: its node will end the RUNNING job; none: asked before. For a whole array: cancelled when a PENDING task was cancelled, else cancel_requested when a RUNNING one was marked.',
    }),
    array_tasks: z.object({ cancelled: z.number().int(), cancel_requested: z.number().int() }).nullable().openapi({
      description: "A whole array's cancel: how many PENDING tasks it cancelled and RUNNING ones it marked; else null.",
    }),
  })
  .openapi('CancelResult');

/**
 * PATCH /v1/jobs/{id}: the fields of a PENDING job that `scontrol update` changes, each read as the submit reads it.
 * At least one; unknown fields are refused, as in the submit body.
 */
export const UpdateJobRequest = z
  .object({
    time_limit: JobDescription.shape.time_limit.openapi({
      description:
        'Slurm\'s formats (M, M:S, H:M:S, D-H, D-H:M, D-H:M:S; a plain number is minutes; "UNLIMITED"). A user token may only lower it; an admin may set any, within the partition\'s maximum.',
      example: '30:00',
    }),
    nice: JobDescription.shape.nice.openapi({
      description: "A user token may only raise it (lowering its job's priority), and never below 0; an admin any.",
      example: 100,
    }),
    partition: identifier('partition').optional().openapi({
      description:
        'Another configured partition: its rules apply as at submit (state, allowed accounts, maximum time and size), and some node of it must fit the job.',
    }),
    name: label(256).optional(),
    begin: JobDescription.shape.begin.openapi({
      description:
        "A new begin time, in sbatch's --begin formats (UTC unless it names an offset): in the future, the job waits (BeginTime) until then; now or past, it is eligible at once.",
      example: 'now+30minutes',
    }),
    dependency: z
      .string()
      .max(65_536)
      .superRefine((value, ctx) =>
        value === '' ? undefined : refineWith(parseDependency, DependencyError)(value, ctx),
      )
      .optional()
      .openapi({
        description:
          "A new dependency list in sbatch's --dependency format, replacing the job's (as scontrol update Dependency=); \"\" clears it. Checked as at submit: its parents must exist, be the token's to see, and have been submitted before the job (so no cycle can be made). Decided at once: the job waits (Dependency), is released, or can never start (DependencyNeverSatisfied, or cancelled as its kill_on_invalid_dep says). A hold or a begin time to come stays the job's reason.",
        example: 'afterok:12',
      }),
  })
  .strict()
  .refine((body) => Object.values(body).some((value) => value !== undefined), {
    message: 'give at least one of time_limit, nice, partition, name, begin, dependency',
  })
  .openapi('UpdateJobRequest');

export const UpdateJobResult = z
  .object({
    job: Job,
    changes: z.record(z.string(), z.object({ from: z.unknown(), to: z.unknown() })).openapi({
      description:
        'What the update changed, field by field (time_limit in seconds, null for UNLIMITED; eligible_time as ISO-8601); empty when every value was already so.',
      example: { time_limit: { from: 3600, to: 1800 } },
    }),
  })
  .openapi('UpdateJobResult');

export const ArrayUpdateResult = z
  .object({
    array_job_id: z.string().openapi({ description: "The array's id (its first task's), as given.", example: '123' }),
    array_tasks: ArrayTaskCounts,
  })
  .openapi('ArrayUpdateResult');
