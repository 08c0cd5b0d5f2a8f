/**
 * The multifactor priority's settings, the API's (both hosts spread them): Slurm's slurm.conf(5) PriorityWeightAge,
 * PriorityWeightFairshare, PriorityWeightJobSize, PriorityWeightPartition, PriorityMaxAge and PriorityDecayHalfLife,
 * and how often the reconciler recomputes (Slurm's PriorityCalcPeriod; on Workers the Cron trigger's minute bounds it).
 * A job's priority is the weighted sum of its factors, each from 0 to 1, less its nice (Slurm's priority/multifactor
 * plugin, https://slurm.schedmd.com/priority_multifactor.html), computed by api/priority/.
 */
import { z } from 'zod';
import { parseTimeLimit, TimeLimitError } from '../job/time-limit.js';

/** The weights' sum stays below this: the Redis queue orders priorities up to 10^6 exactly (redis-job-queue.ts). */
export const MAX_PRIORITY_WEIGHTS = 1_000_000;

export interface PriorityWeights {
  /** PriorityWeightAge: reached by a job pending PriorityMaxAge or longer. */
  age: number;
  /** PriorityWeightFairshare: an account that used nothing lately gets it whole. */
  fairShare: number;
  /** PriorityWeightJobSize: a job asking for every CPU of the cluster gets it whole (PriorityFavorSmall=NO). */
  jobSize: number;
  /** PriorityWeightPartition: a job in the partition of the highest PriorityTier gets it whole. */
  partition: number;
}

export interface PrioritySettings {
  weights: PriorityWeights;
  /** PriorityMaxAge, ms: the age factor is 1 from there on. */
  maxAgeMs: number;
  /** PriorityDecayHalfLife, ms: an account's past usage counts half after this long. */
  halfLifeMs: number;
  /** PriorityCalcPeriod, ms: the recompute runs at most once per this, across every reconciler. */
  intervalMs: number;
}

/** Fair share weighs most, as Slurm's sites usually set it; the total (13,000) is far below 10^6. */
export const DEFAULT_PRIORITY: PrioritySettings = {
  weights: { age: 1000, fairShare: 10_000, jobSize: 1000, partition: 1000 },
  maxAgeMs: 7 * 86_400_000,
  halfLifeMs: 7 * 86_400_000,
  intervalMs: 30_000,
};

const weight = (fallback: number, what: string) =>
  z.coerce
    .number({ error: `must be a whole number from 0 to ${MAX_PRIORITY_WEIGHTS}` })
    .int(`must be a whole number from 0 to ${MAX_PRIORITY_WEIGHTS}`)
    .min(0, `must be a whole number from 0 to ${MAX_PRIORITY_WEIGHTS}`)
    .max(MAX_PRIORITY_WEIGHTS, `must be a whole number from 0 to ${MAX_PRIORITY_WEIGHTS}`)
    .default(fallback)
    .describe(`The weight of ${what} in a job's priority.`);

/** A Slurm duration (D-H, H:M:S, M: time-limit.ts's formats), in ms; UNLIMITED is refused. */
const duration = (fallback: string, what: string) =>
  z
    .string()
    .default(fallback)
    .transform((text, ctx) => {
      try {
        const seconds = parseTimeLimit(text);
        if (seconds !== null) return seconds * 1000;
        ctx.addIssue({ code: 'custom', message: 'must be a duration, not UNLIMITED' });
      } catch (error) {
        if (!(error instanceof TimeLimitError)) throw error;
        ctx.addIssue({ code: 'custom', message: error.message });
      }
      return z.NEVER;
    })
    .describe(what);

export const prioritySettings = {
  CONDUCTOR_PRIORITY_WEIGHT_AGE: weight(DEFAULT_PRIORITY.weights.age, 'how long a job has waited'),
  CONDUCTOR_PRIORITY_WEIGHT_FAIRSHARE: weight(DEFAULT_PRIORITY.weights.fairShare, "its account's fair share"),
  CONDUCTOR_PRIORITY_WEIGHT_JOBSIZE: weight(DEFAULT_PRIORITY.weights.jobSize, "its CPUs' share of the cluster"),
  CONDUCTOR_PRIORITY_WEIGHT_PARTITION: weight(DEFAULT_PRIORITY.weights.partition, "its partition's priority tier"),
  CONDUCTOR_PRIORITY_MAX_AGE: duration('7-0', 'PriorityMaxAge: the wait from which the age factor is 1 (Slurm time).'),
  CONDUCTOR_PRIORITY_DECAY_HALF_LIFE: duration(
    '7-0',
    "PriorityDecayHalfLife: after this long an account's past usage counts half (Slurm time).",
  ),
  CONDUCTOR_PRIORITY_RECOMPUTE_SECONDS: z.coerce
    .number({ error: 'must be a number of seconds from 1 to 3600' })
    .min(1, 'must be a number of seconds from 1 to 3600')
    .max(3600, 'must be a number of seconds from 1 to 3600')
    .default(DEFAULT_PRIORITY.intervalMs / 1000)
    .describe('How often pending jobs’ priorities are recomputed, at most (the reconciler runs it).'),
};

type PriorityConfig = { [K in keyof typeof prioritySettings]: z.infer<(typeof prioritySettings)[K]> };

/** Refuses weights whose sum could pass what the queues order exactly (superRefine of a schema spreading them). */
export function checkPriorityWeights(config: Partial<PriorityConfig>, ctx: z.RefinementCtx): void {
  const names = [
    'CONDUCTOR_PRIORITY_WEIGHT_AGE',
    'CONDUCTOR_PRIORITY_WEIGHT_FAIRSHARE',
    'CONDUCTOR_PRIORITY_WEIGHT_JOBSIZE',
    'CONDUCTOR_PRIORITY_WEIGHT_PARTITION',
  ] as const;
  const values = names.map((name) => config[name]);
  // A value refused already says so.
  if (!values.every((value) => typeof value === 'number')) return;
  if ((values as number[]).reduce((sum, value) => sum + value, 0) > MAX_PRIORITY_WEIGHTS) {
    ctx.addIssue({
      code: 'custom',
      path: ['CONDUCTOR_PRIORITY_WEIGHT_FAIRSHARE'],
      message: `the four CONDUCTOR_PRIORITY_WEIGHT_* must add up to at most ${MAX_PRIORITY_WEIGHTS}`,
    });
  }
}

export const priorityOf = (config: PriorityConfig): PrioritySettings => ({
  weights: {
    age: config.CONDUCTOR_PRIORITY_WEIGHT_AGE,
    fairShare: config.CONDUCTOR_PRIORITY_WEIGHT_FAIRSHARE,
    jobSize: config.CONDUCTOR_PRIORITY_WEIGHT_JOBSIZE,
    partition: config.CONDUCTOR_PRIORITY_WEIGHT_PARTITION,
  },
  maxAgeMs: config.CONDUCTOR_PRIORITY_MAX_AGE,
  halfLifeMs: config.CONDUCTOR_PRIORITY_DECAY_HALF_LIFE,
  intervalMs: config.CONDUCTOR_PRIORITY_RECOMPUTE_SECONDS * 1000,
});
