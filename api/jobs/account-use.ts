/**
 * What an account's running limits allow and what its RUNNING jobs hold of them now (Slurm's GrpTRES=cpu and GrpJobs,
 * sacctmgr(1)), for saying why a job its limit holds waits. The limits are enforced by the confirm; this only reads.
 */
import { sql } from 'drizzle-orm';
import type { Database } from '../../shared/db/database.js';
import { wordArray } from '../../shared/db/pg-array.js';
import { queryRows } from '../../shared/db/query-rows.js';
import { ACCOUNT_LIMIT_REASONS } from '../../shared/job/pending-reason.js';

export type AccountLimitReason = (typeof ACCOUNT_LIMIT_REASONS)[number];

/** Whether a job's stored reason is an account limit's: the one reason stored, not decided on read. */
export const isAccountLimit = (reason: string | null): reason is AccountLimitReason =>
  (ACCOUNT_LIMIT_REASONS as readonly (string | null)[]).includes(reason);

export interface AccountUse {
  account: string;
  /** Null: no limit (or no row for the account). */
  maxRunningCpus: number | null;
  maxRunningJobs: number | null;
  /** CPUs and jobs of its RUNNING jobs now. */
  runningCpus: number;
  runningJobs: number;
}

/** The limits and running use of each of these accounts, by name; an account with no row has no limits. */
export async function readAccountUse(db: Database, names: readonly string[]): Promise<Map<string, AccountUse>> {
  if (names.length === 0) return new Map();
  const rows = await queryRows(
    db,
    sql`
      SELECT w.account, a.max_running_cpus, a.max_running_jobs,
             coalesce(sum(r.cpus), 0)::int AS running_cpus, count(r.id)::int AS running_jobs
      FROM unnest(${wordArray([...new Set(names)])}) AS w(account)
      LEFT JOIN accounts a ON a.name = w.account
      LEFT JOIN jobs r ON r.account = w.account AND r.state = 'RUNNING'
      GROUP BY w.account, a.max_running_cpus, a.max_running_jobs
    `,
  );
  const nullable = (value: unknown) => (value === null ? null : Number(value));
  return new Map(
    rows.map((row) => [
      String(row.account),
      {
        account: String(row.account),
        maxRunningCpus: nullable(row.max_running_cpus),
        maxRunningJobs: nullable(row.max_running_jobs),
        runningCpus: Number(row.running_cpus),
        runningJobs: Number(row.running_jobs),
      },
    ]),
  );
}

/** The limit a stored reason names, with what is in use of it; limit null when the account has none (any more). */
export function heldBy(
  reason: AccountLimitReason,
  use: AccountUse | undefined,
): { limit: number | null; inUse: number; unit: 'cpus' | 'jobs' } {
  return reason === 'AssocGrpCpuLimit'
    ? { limit: use?.maxRunningCpus ?? null, inUse: use?.runningCpus ?? 0, unit: 'cpus' }
    : { limit: use?.maxRunningJobs ?? null, inUse: use?.runningJobs ?? 0, unit: 'jobs' };
}

/** "account physics runs 6 of its 8 CPUs (GrpTRES=cpu)": the reason in words. */
export function accountLimitPhrase(reason: AccountLimitReason, account: string, use: AccountUse | undefined): string {
  const held = heldBy(reason, use);
  const unit = held.unit === 'cpus' ? 'CPUs' : 'jobs';
  const slurmName = held.unit === 'cpus' ? 'GrpTRES=cpu' : 'GrpJobs';
  if (held.limit === null)
    return `account ${account} had reached its running ${unit} limit (${slurmName}); it has none now`;
  return `account ${account} runs ${held.inUse} of its ${held.limit} ${unit} (${slurmName})`;
}
