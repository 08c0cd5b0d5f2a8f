/**
 * The original SCNS-Conductor's bodies and answers (`api/schemas/*.py` there), field for field, so its clients keep
 * working. Fields added since are marked so in their descriptions; none of the original's is renamed or retyped.
 */
import { z } from '@hono/zod-openapi';
import { parseOriginalTimeLimit } from '../../../shared/job/original-time-limit.js';
import { checkJobSize, jobFields, refineWith, script } from '../../../shared/job/submit-request.js';
import { JOB_STATES } from '../../../shared/job/job-state.js';
import { TimeLimitError } from '../../../shared/job/time-limit.js';
import { ORIGINAL_STATES } from './original-format.js';
import { JobEfficiency, JobUsage } from '../v1/jobs/schema.js';
import { pydanticBool, pydanticInt } from './pydantic-lax.js';

/** Naive UTC, as the original wrote its times: no "Z". */
const originalTime = z.string().openapi({
  description: 'UTC, ISO 8601 without a zone designator, as the original wrote it.',
  example: '2026-11-28T14:00:00.123000',
});

const timeLimit = z
  .string({ error: 'must be a string such as "30" (minutes) or "1:30" (hours:minutes), as the original API took it' })
  .superRefine(refineWith(parseOriginalTimeLimit, TimeLimitError))
  .openapi({
    description:
      'As the original read it: "30" is minutes; "H:M" (1:30 is an hour and a half), "H:M:S", "D-H", "D-H:M", "D-H:M:S"; "0" is no limit. (/v1 reads Slurm\'s forms instead.) Defaults to 1:00:00.',
    example: '1:30',
  });

const fields = jobFields(timeLimit);

// Fields the original never had: taken when valid, else ignored as the original ignored them (and named).
const added = (description: string) =>
  z
    .unknown()
    .optional()
    .openapi({ description: `Added. ${description}` });

export const OriginalJobDescription = z
  .looseObject({
    ...fields,
    ntasks_per_node: z.preprocess(pydanticInt, fields.ntasks_per_node),
    cpus_per_task: z.preprocess(pydanticInt, fields.cpus_per_task),
    exclusive: z.preprocess(pydanticBool, fields.exclusive),
    priority: added('An integer, 0 to 1,000,000, higher first; default 0.'),
    requeue: added(
      'A boolean: true retries the job when its node fails it (lost, or unable to start it), up to 6 attempts in all; default false.',
    ),
    idempotency_key: added(
      "A string of 1 to 255 printable ASCII characters, unique per job the client means to submit (a UUID): a retry with the same key and body within 24 h is answered with the first job, the same key with another body is refused (422). Unlike the other added fields, one that is not valid is refused, not ignored. As /v1's `Idempotency-Key` header.",
    ),
  })
  .superRefine(checkJobSize)
  .openapi('OriginalJobDescription', {
    description:
      'Read as the original read it (pydantic\'s lax mode: "4" is 4, "yes" is true). Fields it does not know, and added ones that are not valid, are ignored, as the original ignored them, and named in the job\'s warnings.',
  });

export const OriginalSubmitRequest = z
  .looseObject({ job: OriginalJobDescription, script })
  .openapi('OriginalSubmitRequest');

/** The fields added since the original, as /v1 takes them. */
export const AddedFields = { priority: fields.priority, requeue: fields.requeue };

export type OriginalSubmitRequest = z.infer<typeof OriginalSubmitRequest>;

export const SubmitResponse = z
  .object({ job_id: z.string().openapi({ example: '42' }) })
  .openapi('OriginalSubmitResponse');

export const OriginalState = z.enum(ORIGINAL_STATES).openapi('OriginalJobState');

export const QueryResponse = z
  .object({
    job_id: z.string(),
    state: OriginalState.openapi({
      description: "The original's five states: TIMEOUT, OUT_OF_MEMORY and NODE_FAIL are FAILED here.",
    }),
    slurm_state: z.enum(JOB_STATES).openapi({ description: 'Added: the state as /v1 and Slurm name it.' }),
    error_msg: z.string().nullable().openapi({
      description:
        'Why the job failed; for an ending the original did not have, it starts with its name ("TIMEOUT: ...").',
    }),
    time: z.object({
      submit_time: originalTime,
      eligible_time: originalTime,
      start_time: originalTime.nullable().openapi({ description: 'When the job started running.' }),
      end_time: originalTime.nullable(),
      elapsed_time: z.string().openapi({ description: 'D-HH:MM:SS', example: '0-00:01:05' }),
      limit_time: z
        .string()
        .openapi({ description: 'H:MM:SS below a day, D-HH:MM:SS from one day, or "UNLIMITED".', example: '1:30:00' }),
    }),
    job_log: z.object({
      stdout: z.string().openapi({
        description:
          'The latest attempt\'s output as text: all of it below 1 MiB, else its last 1,000 lines (at most 8 MiB) after a marker line. "[读取日志文件出错: ...]" when it cannot be read, as in the original.',
      }),
      stderr: z.string(),
    }),
    detail: z.object({
      job_name: z.string(),
      user: z.string().openapi({ description: 'The account, as in the original.' }),
      partition: z.string(),
      allocated_cpus: z.number().int().openapi({ description: 'ntasks_per_node × cpus_per_task, from submit on.' }),
      allocated_nodes: z.number().int().openapi({ description: 'Always 1: a job runs on one node.' }),
      node_list: z.string().openapi({ description: 'The node it runs or ran on; "" before.' }),
      exit_code: z.string().openapi({ description: '"status:signal"; ":" until the job ended.', example: '0:0' }),
      work_dir: z.string(),
      data_source: z.string().openapi({ example: 'API' }),
      account: z.string(),
      usage: JobUsage.nullable().openapi({ description: "Added: what the job's latest run used, as /v1 shows it." }),
      efficiency: JobEfficiency.nullable().openapi({ description: 'Added: its CPU and memory efficiency, as seff.' }),
    }),
  })
  .openapi('OriginalQueryResponse');

export const CancelResponse = z
  .object({
    msg: z.string().openapi({ example: '取消成功' }),
    effect: z.enum(['cancelled', 'cancel_requested', 'none']).openapi({
      description:
        'Added. cancelled: the PENDING job is now CANCELLED; cancel_requested: its node will end the RUNNING job; none: it had ended or was being cancelled.',
    }),
  })
  .openapi('OriginalCancelResponse');

const JobSummary = z.object({
  job_id: z.number().int().openapi({ description: 'An integer here, as in the original.' }),
  name: z.string(),
  account: z.string(),
  state: z.string(),
  allocated_cpus: z.number().int(),
  submit_time: originalTime,
  start_time: originalTime.nullable(),
  partition: z.string().openapi({ description: 'Added.' }),
});

const percent = z.number().openapi({ description: 'Allocated CPUs as a percentage of the total, to 2 decimals.' });

export const OriginalDashboard = z
  .object({
    job_stats: z.object({
      total: z.number().int(),
      running: z.number().int(),
      pending: z.number().int(),
      completed: z.number().int(),
      failed: z.number().int().openapi({ description: 'FAILED, TIMEOUT, OUT_OF_MEMORY and NODE_FAIL.' }),
      cancelled: z.number().int(),
      by_state: z.record(z.enum(JOB_STATES), z.number().int()).openapi({ description: 'Added: per /v1 state.' }),
    }),
    resource_stats: z.object({
      total_cpus: z.number().int().openapi({ description: 'Cores of the nodes that are not DOWN.' }),
      allocated_cpus: z.number().int().openapi({ description: 'Cores held by RUNNING jobs on those nodes.' }),
      available_cpus: z.number().int().openapi({ description: 'Free cores of UP nodes: what new work can get.' }),
      utilization_rate: percent,
    }),
    node_info: z.array(
      z.object({
        node_name: z.string(),
        partition: z.string().openapi({ description: 'Its partitions, separated by commas.' }),
        total_cpus: z.number().int(),
        allocated_cpus: z.number().int(),
        available_cpus: z.number().int().openapi({ description: 'Its free cores when it is UP, else 0.' }),
        available: z.boolean().openapi({ description: 'UP: it takes new work (not DOWN, not draining).' }),
        utilization_rate: percent,
        state: z.enum(['UP', 'DOWN', 'DRAINING']).openapi({ description: 'Added.' }),
      }),
    ),
    running_jobs: z
      .array(JobSummary.extend({ node: z.string().nullable().openapi({ description: 'Added.' }) }))
      .openapi({ description: 'The 20 most recently started.' }),
    pending_jobs: z
      .array(
        JobSummary.extend({
          priority: z.number().int().openapi({ description: 'Added.' }),
          reason: z.string().nullable().openapi({ description: 'Added: why it waits.' }),
        }),
      )
      .openapi({ description: 'The first 20 in queue order: the order in which nodes take them.' }),
  })
  .openapi('OriginalDashboard');

export const OriginalRoot = z
  .object({ service: z.string(), version: z.string(), status: z.literal('running') })
  .openapi('OriginalRoot');

export const OriginalHealth = z
  .object({ status: z.literal('healthy'), service: z.literal('scns-conductor-api') })
  .openapi('OriginalHealth');

export const OriginalUnhealthy = z
  .object({
    status: z.literal('unhealthy'),
    service: z.literal('scns-conductor-api'),
    error: z.string().openapi({ example: 'the database did not answer' }),
  })
  .openapi('OriginalUnhealthy');
