/**
 * A job's retry policy (issue 20): which ends of a run start it again, how many times and after how long. The body
 * names it (`job.retry`, /v1 only); `requeue: false` turns every automatic retry off; without either a job has the
 * default policy, which retries only what the node did to it (its loss, a launch its node could not make), never
 * what the job did (its exit codes, its own paths, a time limit or memory it exceeded), unless asked.
 *
 * The classes of a run's end that a policy may name:
 * - node_fail: its node was lost (silent past its lease: settle-lost-nodes.ts), stopped the run at its lease's end,
 *   or lost its wrapper in its daemon's own crash (worker-node/job-ending.ts, DAEMON_LOST_WRAPPER);
 * - node_launch_failed: its node could not start it (fork, its cgroups, its own spool: job-launcher.ts NODE_REFUSALS);
 * - timeout: its time limit ended it (TIMEOUT);
 * - oom: it used more memory than it asked for (OUT_OF_MEMORY);
 * and `exit_codes`: the script's own exit statuses (FAILED with that status, no signal) that mean "try again".
 */
import { z } from '@hono/zod-openapi';

export const RETRY_CLASSES = ['node_fail', 'node_launch_failed', 'timeout', 'oom'] as const;
export type RetryClass = (typeof RETRY_CLASSES)[number];

/** The node-side classes: the default policy's. */
export const NODE_SIDE_CLASSES: readonly RetryClass[] = ['node_fail', 'node_launch_failed'];

/**
 * The default number of attempts in all: the first run and five restarts, as Slurm's MaxBatchRequeue (slurm.conf(5):
 * "Maximum number of times a batch job may be automatically requeued", default 5).
 */
export const DEFAULT_MAX_ATTEMPTS = 6;
export const MAX_ATTEMPTS_LIMIT = 100;
/** A day: a longer wait is a `begin` time, not a backoff. */
export const MAX_BACKOFF_SECONDS = 86_400;
export const MAX_OOM_MEMORY_FACTOR = 16;

/** A job's policy as stored (jobs.retry_policy, migration 0026): every field filled in. */
export interface RetryPolicy {
  on: RetryClass[];
  exit_codes: number[];
  max_attempts: number;
  backoff_seconds: number;
  /** Each OOM retry asks for this many times the memory of the run that ran out (1: the same). */
  oom_memory_factor: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  on: [...NODE_SIDE_CLASSES],
  exit_codes: [],
  max_attempts: DEFAULT_MAX_ATTEMPTS,
  backoff_seconds: 0,
  oom_memory_factor: 1,
};

/**
 * A list of at most `max` distinct values: checked only once the value is a list (zod runs a length check on a
 * string too, which made `"on": "timeout"` a second, puzzling problem), each value named twice refused once, at its second place.
 */
const distinctList =
  (max: number) =>
  <T>(values: T[], ctx: z.RefinementCtx) => {
    if (values.length > max) ctx.addIssue({ code: 'custom', message: `at most ${max} values` });
    values.forEach((value, n) => {
      if (values.indexOf(value) === n && values.lastIndexOf(value) !== n) {
        ctx.addIssue({
          code: 'custom',
          path: [values.lastIndexOf(value)],
          message: `${JSON.stringify(value)} is named twice`,
        });
      }
    });
  };

/**
 * A number from `min` to `max` (whole unless `fraction`), refused with one message naming the range: zod would give
 * one problem per failed check (-1.5 is both too small and not whole).
 */
const bounded = (min: number, max: number, unit: string, fraction = false) => {
  const error = `must be ${fraction ? 'a number' : 'a whole number'}${unit} from ${min} to ${max}`;
  const number = z.number({ error });
  return (fraction ? number : number.int({ error, abort: true })).min(min, { error, abort: true }).max(max, { error });
};

/** `job.retry` in a /v1 submit body: what it leaves out is the default policy's. */
export const RetryBody = z
  .object(
    {
      on: z
        .array(
          z.enum(RETRY_CLASSES, {
            error: (issue) => `${JSON.stringify(issue.input)} is not a class: give ${RETRY_CLASSES.join(', ')}`,
          }),
          { error: `must be a list of classes, such as ["timeout"]: ${RETRY_CLASSES.join(', ')}` },
        )
        .superRefine(distinctList(RETRY_CLASSES.length))
        .optional()
        .openapi({
          maxItems: RETRY_CLASSES.length,
          description: `The classes of a run's end that start the job again: ${RETRY_CLASSES.join(', ')}. Defaults to the node-side ones, ${NODE_SIDE_CLASSES.join(', ')}; [] retries none of them.`,
          example: ['node_fail', 'node_launch_failed', 'timeout', 'oom'],
        }),
      exit_codes: z
        .array(bounded(1, 255, ' (an exit status)'), { error: 'must be a list of exit statuses 1-255, such as [75]' })
        .superRefine(distinctList(255))
        .optional()
        .openapi({
          maxItems: 255,
          description: "The script's exit statuses (1-255) that start the job again. Defaults to none.",
          example: [75],
        }),
      max_attempts: bounded(1, MAX_ATTEMPTS_LIMIT, ' of attempts')
        .optional()
        .openapi({
          description: `Attempts in all, the first included (1: never again). Defaults to ${DEFAULT_MAX_ATTEMPTS}, the first run and Slurm's MaxBatchRequeue of 5.`,
          example: 3,
        }),
      backoff_seconds: bounded(0, MAX_BACKOFF_SECONDS, ' of seconds').optional().openapi({
        description:
          'Seconds a retried job waits (reason BeginTime) before it is queued again. Defaults to 0: queued at once.',
        example: 30,
      }),
      oom_memory_factor: bounded(1, MAX_OOM_MEMORY_FACTOR, '', true).optional().openapi({
        description: `An OOM retry asks for this many times the memory of the run that ran out (rounded up to a MB), at most its partition's maximum per job and the most memory a node of its partition has. Defaults to 1 (the same memory).`,
        example: 1.5,
      }),
    },
    { error: 'must be an object, such as {"on": ["timeout"], "max_attempts": 3}' },
  )
  .strict()
  .openapi('RetryPolicy');
export type RetryBody = z.infer<typeof RetryBody>;

/**
 * The policy a job is stored with: none (null) when `requeue` is false (every automatic retry off), else the body's
 * `retry` over the default policy. `requeue` true or absent alike mean "retry as the policy says".
 */
export function effectiveRetryPolicy(requeue: boolean | undefined, retry: RetryBody | undefined): RetryPolicy | null {
  if (requeue === false) return null;
  return {
    on: retry?.on ?? DEFAULT_RETRY_POLICY.on,
    exit_codes: retry?.exit_codes ?? DEFAULT_RETRY_POLICY.exit_codes,
    max_attempts: retry?.max_attempts ?? DEFAULT_RETRY_POLICY.max_attempts,
    backoff_seconds: retry?.backoff_seconds ?? DEFAULT_RETRY_POLICY.backoff_seconds,
    oom_memory_factor: retry?.oom_memory_factor ?? DEFAULT_RETRY_POLICY.oom_memory_factor,
  };
}
