/**
 * CONDUCTOR_JOB_RETENTION_DAYS and CONDUCTOR_OUTPUT_RETENTION_DAYS, the API's: how long after its end a finished job's
 * row (with its events) and its stored output are kept before the reconciler deletes them (api/jobs/purge-jobs.ts).
 * Whole days from 1, or `never`. Output is never kept longer than its job: a job's row is deleted only after its
 * output, so that no stored output outlives the row that names it. Slurm keeps finished jobs in slurmctld for
 * MinJobAge and in its accounting database for PurgeJobAfter (slurmdbd.conf(5)); these are the second kind.
 */
import { z } from 'zod';

const DEFAULT_JOB_RETENTION_DAYS = 365;
const DEFAULT_OUTPUT_RETENTION_DAYS = 30;
const MAX_RETENTION_DAYS = 36_500;
const DAY_MS = 86_400_000;
// The event stream (api/events/): a week at least, as issue 21 asks, so that a client away over a weekend resumes.
const MIN_EVENT_RETENTION_DAYS = 7;
// About 3 GB of rows: a busy cluster's week (16 events a second). The row bound wins over the days: choose it for
// your event rate.
const DEFAULT_EVENT_MAX_ROWS = 10_000_000;

/** The retention in ms, or null for `never`. */
export type RetentionMs = number | null;

const days = (fallback: number, what: string) =>
  z
    .string()
    .trim()
    .regex(/^([0-9]+|never)$/, 'must be a whole number of days or never')
    .default(String(fallback))
    .transform((value) => (value === 'never' ? null : Number(value)))
    .pipe(z.number().min(1, 'must be at least 1 day, or never').max(MAX_RETENTION_DAYS).nullable())
    .transform((value): RetentionMs => (value === null ? null : value * DAY_MS))
    .describe(`How many days after its end ${what} is kept, or never.`);

export const retentionSettings = {
  CONDUCTOR_JOB_RETENTION_DAYS: days(DEFAULT_JOB_RETENTION_DAYS, "a finished job's row, with its events,"),
  CONDUCTOR_OUTPUT_RETENTION_DAYS: days(DEFAULT_OUTPUT_RETENTION_DAYS, "a finished job's stored output"),
  CONDUCTOR_EVENT_RETENTION_DAYS: z
    .string()
    .trim()
    .regex(/^[0-9]+$/, 'must be a whole number of days')
    .default(String(MIN_EVENT_RETENTION_DAYS))
    .transform(Number)
    .pipe(
      z
        .number()
        .min(MIN_EVENT_RETENTION_DAYS, `must be at least ${MIN_EVENT_RETENTION_DAYS} days`)
        .max(MAX_RETENTION_DAYS),
    )
    .transform((value) => value * DAY_MS)
    .describe('How many days an event of the stream (GET /v1/events) is kept for clients to resume from.'),
  CONDUCTOR_EVENT_MAX_ROWS: z
    .string()
    .trim()
    .regex(/^[0-9]+$/, 'must be a whole number')
    .default(String(DEFAULT_EVENT_MAX_ROWS))
    .transform(Number)
    .pipe(z.number().min(1000, 'must be at least 1000').max(Number.MAX_SAFE_INTEGER))
    .describe('At most this many events of the stream are kept: the oldest go first, even inside their days.'),
  // Spelled as slurmdbd.conf(5) spells ArchiveJobs.
  CONDUCTOR_ARCHIVE_JOBS: z
    .enum(['yes', 'no'], 'must be yes or no')
    .default('no')
    .transform((value) => value === 'yes')
    .describe("Whether a job's record (its fields and events) is written to the log store before its row is deleted."),
};

export interface Retention {
  jobMs: RetentionMs;
  outputMs: RetentionMs;
  /** CONDUCTOR_ARCHIVE_JOBS: each job's record is archived (shared/logs/job-archive.ts) before its row is deleted. */
  archive: boolean;
  /** CONDUCTOR_EVENT_RETENTION_DAYS in ms: events of the stream older than this are deleted (event-retention.ts). */
  eventMs: number;
  /** CONDUCTOR_EVENT_MAX_ROWS: the stream keeps at most this many events. */
  eventMaxRows: number;
}

export const DEFAULT_RETENTION: Retention = {
  jobMs: DEFAULT_JOB_RETENTION_DAYS * DAY_MS,
  outputMs: DEFAULT_OUTPUT_RETENTION_DAYS * DAY_MS,
  archive: false,
  eventMs: MIN_EVENT_RETENTION_DAYS * DAY_MS,
  eventMaxRows: DEFAULT_EVENT_MAX_ROWS,
};

type RetentionSettings = {
  CONDUCTOR_JOB_RETENTION_DAYS: RetentionMs;
  CONDUCTOR_OUTPUT_RETENTION_DAYS: RetentionMs;
  CONDUCTOR_ARCHIVE_JOBS: boolean;
  CONDUCTOR_EVENT_RETENTION_DAYS: number;
  CONDUCTOR_EVENT_MAX_ROWS: number;
};

/** Refuses output kept longer than its job (superRefine of a schema that spreads `retentionSettings`). */
export function checkRetention(
  config: Pick<RetentionSettings, 'CONDUCTOR_JOB_RETENTION_DAYS' | 'CONDUCTOR_OUTPUT_RETENTION_DAYS'>,
  ctx: z.RefinementCtx,
): void {
  const { CONDUCTOR_JOB_RETENTION_DAYS: job, CONDUCTOR_OUTPUT_RETENTION_DAYS: output } = config;
  // A value refused already says so (the refinement still runs, on its text): this would only add noise.
  if (![job, output].every((value) => value === null || (typeof value === 'number' && value >= DAY_MS))) return;
  if (job !== null && (output === null || output > job)) {
    ctx.addIssue({
      code: 'custom',
      path: ['CONDUCTOR_OUTPUT_RETENTION_DAYS'],
      message: 'must not be longer than CONDUCTOR_JOB_RETENTION_DAYS: a job is deleted with its output',
    });
  }
}

export const retentionOf = (config: RetentionSettings): Retention => ({
  jobMs: config.CONDUCTOR_JOB_RETENTION_DAYS,
  outputMs: config.CONDUCTOR_OUTPUT_RETENTION_DAYS,
  archive: config.CONDUCTOR_ARCHIVE_JOBS,
  eventMs: config.CONDUCTOR_EVENT_RETENTION_DAYS,
  eventMaxRows: config.CONDUCTOR_EVENT_MAX_ROWS,
});
