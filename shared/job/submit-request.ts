/**
 * The submit body of the original SCNS-Conductor, `{ job: {...}, script }`, with its validation, as /v1 takes it:
 * every field of the original keeps its name, the fields added since (priority, requeue) are optional, and time
 * limits are Slurm's. Unknown fields are refused: a misspelt `time_limt` must not silently become the default. The
 * original path reads the same fields its own way (`api/routes/original/schema.ts`).
 */
import { z } from '@hono/zod-openapi';
import { echo } from '../echo.js';
import { DependencyError, parseDependency, type Dependency } from './dependency.js';
import { identifier, label, unixUser } from '../names.js';
import type { AppliedDirective } from './applied-directive.js';
import { ArraySpecError, MAX_ARRAY_INDEX, parseArraySpec, type ArraySpec } from './array-spec.js';
import { MemorySizeError, parseMemorySize } from './memory-size.js';
import { BeginTimeError, parseBeginTime } from './begin-time.js';
import { DEFAULT_OPEN_MODE, OPEN_MODES, type OpenMode } from './open-mode.js';
import { parseTimeLimit, TimeLimitError, type TimeLimit } from './time-limit.js';
import { parseWarnSignal, WarnSignalError, type WarnSignal } from './warn-signal.js';
import { effectiveRetryPolicy, RetryBody, type RetryPolicy } from './retry-policy.js';

/** sbatch's default output file, for stdout and stderr alike. */
export const DEFAULT_OUTPUT = 'slurm-%j.out';
export const MAX_SCRIPT_BYTES = 1024 * 1024;
export const MAX_ENVIRONMENT_ENTRIES = 1000;
export const MAX_ENVIRONMENT_BYTES = 128 * 1024;
export const MAX_CPUS_PER_JOB = 4096;
export const DEFAULT_TIME_LIMIT = '1:00:00';
export const DEFAULT_MEMORY = '1G';
/** The largest nice either way (an admin's may be negative). Slurm allows ±2147483645; the weights sum to ≤ 10^6. */
export const MAX_NICE = 10_000;

const ENV_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;

const utf8 = new TextEncoder();
const byteLength = (text: string) => utf8.encode(text).length;

const path = label(4096);

const memory = z
  .union([z.string(), z.number().int()], { error: 'must be a size such as "16G", or a whole number of megabytes' })
  .superRefine(refineWith(parseMemorySize, MemorySizeError))
  .openapi({ description: 'K, M, G or T suffix (binary units); a bare number is megabytes.', example: '16G' });

const timeLimit = z
  .union([z.string(), z.number().int()], {
    error: 'must be a Slurm time such as "1-00:00:00", or a whole number of minutes',
  })
  .superRefine(refineWith(parseTimeLimit, TimeLimitError))
  .openapi({
    description: `Slurm formats: M, M:S, H:M:S, D-H, D-H:M, D-H:M:S. A plain number is minutes. "UNLIMITED" for no limit; 0 is refused. Defaults to the partition's default time, else ${DEFAULT_TIME_LIMIT} (or its maximum when shorter).`,
    example: '1-00:00:00',
  });

// JSON.parse keeps a "__proto__" key, but building the record drops it: refuse it before, rather than lose it.
const withoutProtoKey = (value: unknown, ctx: z.RefinementCtx) => {
  if (value !== null && typeof value === 'object' && Object.hasOwn(value, '__proto__')) {
    ctx.addIssue({ code: 'custom', message: '"__proto__" is not a valid variable name' });
  }
  return value;
};

const environment = z.preprocess(
  withoutProtoKey,
  z
    .union(
      [
        z.record(z.string(), z.string()),
        z
          .array(z.string().regex(/^[^=]+=/, 'entries must be NAME=value'))
          .openapi({ description: 'NAME=value entries' }),
      ],
      { error: 'must be an object of string values, or a list of "NAME=value" strings' },
    )
    .superRefine((value, ctx) => {
      const entries = Object.entries(environmentRecord(value));
      if (entries.length > MAX_ENVIRONMENT_ENTRIES) {
        ctx.addIssue({ code: 'custom', message: `at most ${MAX_ENVIRONMENT_ENTRIES} variables` });
      }
      let bytes = 0;
      for (const [name, val] of entries) {
        if (!ENV_NAME_PATTERN.test(name) || name === '__proto__')
          ctx.addIssue({ code: 'custom', message: `"${echo(name)}" is not a valid variable name` });
        if (val.includes('\u0000')) ctx.addIssue({ code: 'custom', message: `"${echo(name)}" must not contain NUL` });
        bytes += byteLength(name) + byteLength(val) + 2;
      }
      if (bytes > MAX_ENVIRONMENT_BYTES)
        ctx.addIssue({ code: 'custom', message: `at most ${MAX_ENVIRONMENT_BYTES} bytes in all` });
    }),
);

const count = (max: number) => z.number().int().min(1).max(max);

/**
 * The fields of a submit body's `job`, with the time limit as the path reads it: Slurm's forms on /v1, the
 * original's on its own path.
 */
export function jobFields<T extends z.ZodType<string | number>>(timeLimit: T) {
  return {
    account: identifier('account')
      .optional()
      .openapi({ description: 'Defaults to a user token\'s account, else "default".' }),
    name: label(256).optional().openapi({ description: 'Defaults to "job".' }),
    partition: identifier('partition').optional().openapi({
      description: 'A configured partition (GET /v1/partitions). Defaults to the default partition.',
    }),
    current_working_directory: path
      .refine((value) => value.startsWith('/'), 'must be an absolute path')
      .optional()
      .openapi({ description: "Defaults to the job's own directory on its node." }),
    standard_output: path.optional().openapi({
      description:
        'Relative to the working directory. As sbatch\'s filename patterns: %j the job id (%5j zero-pads it), %x the job name, %u the user it runs as, %N its node, %% a percent sign. Defaults to "slurm-%j.out".',
    }),
    standard_error: path.optional().openapi({
      description:
        "The same patterns. Defaults to standard_output's file, as sbatch's: one file takes both streams, stored once, as stdout.",
    }),
    environment: environment.optional(),
    ntasks_per_node: count(MAX_CPUS_PER_JOB).optional().openapi({ description: 'Defaults to 1.' }),
    cpus_per_task: count(MAX_CPUS_PER_JOB).optional().openapi({ description: 'Defaults to 1.' }),
    memory_per_node: memory.optional().openapi({ description: `Defaults to ${DEFAULT_MEMORY}.` }),
    // Its description is the time limit's own: each path reads it its own way.
    time_limit: timeLimit.optional(),
    exclusive: z.boolean().optional().openapi({ description: 'Take a whole node. Defaults to false.' }),
    priority: z.number().int().min(0).max(1_000_000).optional().openapi({
      description:
        "An admin's absolute priority (as scontrol's Priority=): the job keeps it instead of the computed one. 0, the default, leaves it computed; a user token may not set more (use nice to lower a job's priority).",
    }),
    requeue: z.boolean().optional().openapi({
      description:
        'false turns every automatic retry off. On /v1, absent or true: the job is retried as its `retry` policy says (by default when its node is lost or could not start it). On the original path, absent is false (its jobs end NODE_FAIL with their node), true the default policy.',
    }),
  };
}

/** The check across fields of every `job`: the CPUs it asks for in all. */
export function checkJobSize(job: { ntasks_per_node?: number; cpus_per_task?: number }, ctx: z.RefinementCtx): void {
  const cpus = (job.ntasks_per_node ?? 1) * (job.cpus_per_task ?? 1);
  if (cpus > MAX_CPUS_PER_JOB) {
    ctx.addIssue({
      code: 'custom',
      path: ['cpus_per_task'],
      message: `ntasks_per_node × cpus_per_task must be at most ${MAX_CPUS_PER_JOB}`,
    });
  }
}

export const script = z
  .string()
  .refine((value) => value.trim().length > 0, 'must not be empty')
  .refine((value) => byteLength(value) <= MAX_SCRIPT_BYTES, `must be at most ${MAX_SCRIPT_BYTES} bytes`)
  .refine((value) => !value.includes('\u0000'), 'must not contain NUL')
  // As sbatch does ("Batch script contains DOS line breaks"): bash would read `cd /data\r` as a directory named so,
  // and a script broken by lone CRs (old Mac) alone is one line, a comment if it starts with #!. A CR within a line of
  // a script that breaks its lines with LF is the script's own business.
  .refine(
    (value) => !value.includes('\r\n') && !(value.includes('\r') && !value.includes('\n')),
    "has DOS (CRLF) or old Mac (CR) line breaks: convert it to Unix line breaks (dos2unix, or sed -i 's/\\r$//')",
  )
  .openapi({ example: '#!/bin/bash\necho hello' });

export const JobDescription = z
  .object({
    ...jobFields(timeLimit),
    // Only on /v1, as sbatch's --open-mode and --signal; the original opened its files with "w" and had no signals.
    open_mode: z.enum(OPEN_MODES).optional().openapi({
      description:
        'How the output files are opened, as sbatch\'s --open-mode: "truncate" (the default) empties them first, "append" adds to them.',
    }),
    signal: z.string().superRefine(refineWith(parseWarnSignal, WarnSignalError)).optional().openapi({
      description:
        'As sbatch\'s --signal, [B:]<signal>[@seconds]: send that signal that many seconds (default 60) before the time limit: to the tasks the job started with srun (not the batch script, as sbatch), or with "B:" to the batch script only. Never sent without a time limit; at once when the seconds are not below it.',
      example: 'USR1@60',
    }),
    // Only on /v1, as sbatch's --nice: the original had no computed priority to adjust.
    nice: z
      .number()
      .int()
      .min(-MAX_NICE)
      .max(MAX_NICE)
      .optional()
      .openapi({
        description: `As sbatch's --nice: subtracted from the job's computed priority. A user token may only give 0 or more (lowering its own job); an admin any value from -${MAX_NICE} to ${MAX_NICE}. Defaults to 0.`,
        example: 100,
      }),
    // Only on /v1, as sbatch's --hold and --begin (issue 20): the original started every job as soon as it could.
    hold: z.boolean().optional().openapi({
      description:
        "As sbatch's --hold: the job is submitted held (PENDING, reason JobHeldUser, out of the queue) until POST /v1/jobs/{id}/release. Defaults to false.",
    }),
    begin: z
      .string()
      .superRefine(refineWith((value: string) => parseBeginTime(value, new Date()), BeginTimeError))
      .optional()
      .openapi({
        description:
          "As sbatch's --begin: the job waits (reason BeginTime, out of the queue) until then. HH:MM[:SS] [AM|PM], MMDD[YY], MM/DD[/YY], MM.DD[.YY], YYYY-MM-DD[THH:MM[:SS]], now[+count[seconds|minutes|hours|days|weeks]], midnight, noon, elevenses, fika, teatime, today, tomorrow; a time of day and a date may be given together (\"16:00 tomorrow\"). Read in UTC unless the ISO form ends with Z or an offset; a time of day that has passed today is tomorrow's. The job's eligible_time is the instant.",
        example: 'now+1hour',
      }),
    // Only on /v1, as sbatch's --dependency and --kill-on-invalid-dep (shared/job/dependency.ts).
    dependency: z.string().max(65_536).superRefine(refineWith(parseDependency, DependencyError)).optional().openapi({
      description:
        'As sbatch\'s --dependency: `type:job_id[:job_id…]` conditions joined by "," (all must hold) or "?" (any one). Types: after (the parent started or was cancelled), afterany (it ended), afterok (it COMPLETED), afternotok (it ended otherwise), aftercorr (this array task after the parent array\'s task of the same index COMPLETED), singleton (no job of this name and user runs, or waits having been submitted before it, as sbatch(1)). An array\'s id stands for all its tasks. The parents must be jobs of the token\'s account (finished at any time); the job waits PENDING with reason Dependency, out of the queue, until the conditions hold.',
      example: 'afterok:12:13,afterany:14',
    }),
    kill_on_invalid_dep: z.boolean().optional().openapi({
      description:
        "As sbatch's --kill-on-invalid-dep: a job whose dependency can never be satisfied (afterok on a parent that FAILED…) is CANCELLED with reason DependencyNeverSatisfied (true, the default), or kept PENDING with that reason (false).",
    }),
    // Only on /v1, as sbatch's --array: the original had no arrays.
    array: z
      .string()
      .max(4096)
      .superRefine(refineWith(parseArraySpec, ArraySpecError))
      .optional()
      .openapi({
        description: `As sbatch's --array: submit a job array, one task (a job with its own id) per index. Ranges "0-15", steps "1-7:2", lists "1,3,5-9", and "%N" after them to run at most N tasks at once ("0-999%50"). Indexes from 0 to ${MAX_ARRAY_INDEX}. Each task's SLURM_ARRAY_TASK_ID is its index; %A and %a in output paths are the array's id and the task's index.`,
        example: '0-999%50',
      }),
    // Only on /v1: the original's body had no owner (its path ignores a `user`, as it ignores any unknown field).
    // Only on /v1: the original path's jobs retry as it did (requeue true: the default policy).
    retry: RetryBody.optional(),
    user: unixUser('job.user').optional().openapi({
      description:
        "The Unix login the job runs as. A user token's job is always its token's user (naming another is a 403); an admin may name any but root, or none (the job then runs as root where its node allows root jobs).",
      example: 'alice',
    }),
  })
  .strict()
  .superRefine(checkJobSize)
  .superRefine(checkRetryWithRequeue)
  .openapi('JobDescription');

/** `requeue: false` turns every retry off: a policy beside it is a contradiction, not something to drop silently. */
function checkRetryWithRequeue(job: { requeue?: boolean; retry?: RetryBody }, ctx: z.RefinementCtx): void {
  if (job.requeue === false && job.retry !== undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['retry'],
      message: 'requeue false turns every automatic retry off: give a retry policy or requeue false, not both',
    });
  }
}

export const SubmitRequest = z.object({ job: JobDescription, script }).strict().openapi('SubmitRequest');

export type SubmitRequest = z.infer<typeof SubmitRequest>;

/** A validated submit body with every default applied and every size parsed: what a job row is made of. */
export interface JobSpec {
  account: string;
  /** The Unix login the job runs as; null: it names none (only an admin's job). */
  user: string | null;
  name: string;
  partition: string;
  workDir: string | null;
  stdoutPattern: string;
  stderrPattern: string;
  environment: Record<string, string>;
  ntasksPerNode: number;
  cpusPerTask: number;
  cpus: number;
  memoryMb: number;
  timeLimitSeconds: TimeLimit;
  exclusive: boolean;
  /** An admin's absolute priority, as the body asked; 0: none, the priority is computed (api/priority/). */
  priority: number;
  /** sbatch's --nice: subtracted from the computed priority. */
  nice: number;
  /** Whether the job retries at all (false: `requeue: false`); the same as retryPolicy !== null. */
  requeue: boolean;
  /** How it retries (retry-policy.ts); null: never automatically. */
  retryPolicy: RetryPolicy | null;
  script: string;
  openMode: OpenMode;
  warnSignal: WarnSignal | null;
  /** sbatch's --hold: inserted held by its user (JobHeldUser). */
  hold: boolean;
  /** sbatch's --begin, as an instant; null: none (eligible at once). */
  beginAt: Date | null;
  /** sbatch's --dependency, parsed; null: none. */
  dependency: Dependency | null;
  /** sbatch's --kill-on-invalid-dep: cancel the job when its dependency can never be satisfied. */
  killOnInvalidDep: boolean;
  /** What the submit path ignored or could not honour, for the user to see. */
  warnings: string[];
  /** The script's directives the submit applied (none on the original path). */
  directives: AppliedDirective[];
  /** sbatch's --array: the job is an array of tasks, one per index; null: a single job. */
  array: ArraySpec | null;
}

/**
 * How a path reads what it took: its time limits, what it ignored (kept as the job's warnings), and the script's
 * directives it applied (/v1 only: directive-options.ts).
 */
export interface SubmitReading {
  timeLimit(value: string | number): TimeLimit;
  warnings: string[];
  directives?: AppliedDirective[];
  /** The directives that set a body field (by its name), for a refusal of the field to name them. */
  setBy?: Partial<Record<string, AppliedDirective[]>>;
  /** The instant a relative `begin` (now+1hour, 16:00) is read against; the wall clock's now by default. */
  now?: Date;
}

const SLURM_READING: SubmitReading = { timeLimit: parseTimeLimit, warnings: [] };

export function toJobSpec(
  request: { job: z.infer<typeof JobDescription>; script: string },
  defaultAccount: string,
  user: string | null,
  reading: SubmitReading = SLURM_READING,
): JobSpec {
  const { job } = request;
  const ntasksPerNode = job.ntasks_per_node ?? 1;
  const cpusPerTask = job.cpus_per_task ?? 1;
  return {
    account: job.account ?? defaultAccount,
    user,
    name: job.name ?? 'job',
    partition: job.partition ?? 'default',
    workDir: job.current_working_directory ?? null,
    stdoutPattern: job.standard_output ?? DEFAULT_OUTPUT,
    // As sbatch: without --error, stderr goes where stdout goes (sbatch(1), "--error").
    stderrPattern: job.standard_error ?? job.standard_output ?? DEFAULT_OUTPUT,
    environment: environmentRecord(job.environment ?? {}),
    ntasksPerNode,
    cpusPerTask,
    cpus: ntasksPerNode * cpusPerTask,
    memoryMb: parseMemorySize(job.memory_per_node ?? DEFAULT_MEMORY),
    timeLimitSeconds:
      job.time_limit === undefined ? parseTimeLimit(DEFAULT_TIME_LIMIT) : reading.timeLimit(job.time_limit),
    exclusive: job.exclusive ?? false,
    priority: job.priority ?? 0,
    nice: job.nice ?? 0,
    ...retrying(job),
    openMode: job.open_mode ?? DEFAULT_OPEN_MODE,
    warnSignal: job.signal === undefined ? null : parseWarnSignal(job.signal),
    hold: job.hold ?? false,
    beginAt: job.begin === undefined ? null : parseBeginTime(job.begin, reading.now ?? new Date()),
    dependency: job.dependency === undefined ? null : parseDependency(job.dependency),
    killOnInvalidDep: job.kill_on_invalid_dep ?? true,
    script: request.script,
    warnings: reading.warnings,
    directives: reading.directives ?? [],
    array: job.array === undefined ? null : parseArraySpec(job.array),
  };
}

function retrying(job: z.infer<typeof JobDescription>): Pick<JobSpec, 'requeue' | 'retryPolicy'> {
  const retryPolicy = effectiveRetryPolicy(job.requeue, job.retry);
  return { requeue: retryPolicy !== null, retryPolicy };
}

function environmentRecord(value: Record<string, string> | string[]): Record<string, string> {
  if (!Array.isArray(value)) return value;
  return Object.fromEntries(
    value.map((entry) => [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)]),
  );
}

/** A refinement that runs a parser and turns its own error class into an issue with its message. */
export function refineWith<T>(parse: (value: T) => unknown, expected: new (...args: never[]) => Error) {
  return (value: T, ctx: z.RefinementCtx): void => {
    try {
      parse(value);
    } catch (error) {
      if (!(error instanceof expected)) throw error;
      ctx.addIssue({ code: 'custom', message: error.message });
    }
  };
}
