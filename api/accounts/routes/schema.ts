import { z } from '@hono/zod-openapi';
import { identifier } from '../../../shared/names.js';
import type { Account as AccountRecord, AccountLimits } from '../account-store.js';

const INT_MAX = 2 ** 31 - 1;
const count = (description: string) =>
  z.number().int().min(0).max(INT_MAX).nullable().optional().openapi({ description, example: 8 });

/** PUT /v1/accounts/{name}: every limit of the account; one left out (or null) is none. */
export const AccountLimitsRequest = z
  .object({
    max_running_cpus: count(
      "CPUs its RUNNING jobs may hold together (Slurm's GrpTRES=cpu); over it a job waits with the reason AssocGrpCpuLimit.",
    ),
    max_running_jobs: count(
      'Jobs it may run at once (GrpJobs); over it a job waits with the reason AssocMaxJobsLimit.',
    ),
    max_pending_jobs: count('PENDING jobs it may have; a submit over it is refused (429, code max_pending_jobs).'),
    max_submits_per_minute: count(
      'Submits it may make in any 60 s; one over it is refused (429, code max_submits_per_minute, Retry-After: when the oldest leaves the window).',
    ),
    max_stored_output_bytes: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).nullable().optional().openapi({
      description:
        'Bytes of job output it may keep stored (as its nodes reported them, until retention deletes them); at or over it, submits are refused (429, code max_stored_output_bytes) until retention frees space. Nothing is deleted early.',
      example: 10_737_418_240,
    }),
    fairshare_shares: z
      .number()
      .int()
      .min(1)
      .max(INT_MAX)
      .optional()
      .openapi({ description: "Its fair-share shares (sacctmgr's Fairshare=); 1 when left out.", example: 1 }),
  })
  .strict()
  .openapi('AccountLimitsRequest');

export const AccountNameParam = z.object({
  name: identifier('name').openapi({ param: { name: 'name', in: 'path' }, example: 'physics' }),
});

export const Account = z
  .object({
    name: z.string(),
    max_running_cpus: z.number().int().nullable(),
    max_running_jobs: z.number().int().nullable(),
    max_pending_jobs: z.number().int().nullable(),
    max_submits_per_minute: z.number().int().nullable(),
    max_stored_output_bytes: z.number().int().nullable(),
    fairshare_shares: z.number().int(),
    updated_at: z
      .string()
      .nullable()
      .openapi({ format: 'date-time', description: 'When an admin last set its limits; null: never (no limits).' }),
    usage: z
      .object({
        running_cpus: z.number().int(),
        running_jobs: z.number().int(),
        pending_jobs: z.number().int(),
        held_jobs: z
          .number()
          .int()
          .openapi({ description: 'PENDING jobs a running limit holds (AssocGrpCpuLimit, AssocMaxJobsLimit).' }),
        submits_last_minute: z.number().int(),
        stored_output_bytes: z
          .number()
          .int()
          .openapi({ description: 'Output its jobs stored that retention has not deleted yet, as nodes reported it.' }),
      })
      .openapi({ description: 'What the limits count now.' }),
  })
  .openapi('Account');

export const AccountList = z.object({ accounts: z.array(Account) }).openapi('AccountList');

export function accountView(account: AccountRecord): z.infer<typeof Account> {
  const { usage } = account;
  return {
    name: account.name,
    max_running_cpus: account.maxRunningCpus,
    max_running_jobs: account.maxRunningJobs,
    max_pending_jobs: account.maxPendingJobs,
    max_submits_per_minute: account.maxSubmitsPerMinute,
    max_stored_output_bytes: account.maxStoredOutputBytes,
    fairshare_shares: account.fairshareShares,
    updated_at: account.updatedAt?.toISOString() ?? null,
    usage: {
      running_cpus: usage.runningCpus,
      running_jobs: usage.runningJobs,
      pending_jobs: usage.pendingJobs,
      held_jobs: usage.heldJobs,
      submits_last_minute: usage.submitsLastMinute,
      stored_output_bytes: usage.storedOutputBytes,
    },
  };
}

/** The request's limits as the store takes them: left out is none, shares 1. */
export function limitsOf(body: z.infer<typeof AccountLimitsRequest>): AccountLimits {
  return {
    maxRunningCpus: body.max_running_cpus ?? null,
    maxRunningJobs: body.max_running_jobs ?? null,
    maxPendingJobs: body.max_pending_jobs ?? null,
    maxSubmitsPerMinute: body.max_submits_per_minute ?? null,
    maxStoredOutputBytes: body.max_stored_output_bytes ?? null,
    fairshareShares: body.fairshare_shares ?? 1,
  };
}
