/**
 * Accounts' limits as rows (migration 0020, `accounts`), and each account's usage of them as the limits count it. An
 * account without a row has no limits and 1 share (Slurm's association defaults): it is still shown when a token or
 * an active job names it.
 */
import { sql } from 'drizzle-orm';
import type { Database } from '../../shared/db/database.js';
import { queryRows } from '../../shared/db/query-rows.js';
import { accounts, type AccountRow } from '../../shared/db/schema.js';
import { AccountNotFound } from '../http/errors.js';

/** The limits an admin sets, as the accounts table holds them; null: no limit. */
export type AccountLimits = Pick<
  AccountRow,
  | 'maxRunningCpus'
  | 'maxRunningJobs'
  | 'maxPendingJobs'
  | 'maxSubmitsPerMinute'
  | 'maxStoredOutputBytes'
  | 'fairshareShares'
>;

/** What the limits count now. CPUs and jobs are counts; bytes are the account's stored output not yet deleted. */
export interface AccountUsage {
  runningCpus: number;
  runningJobs: number;
  pendingJobs: number;
  /** PENDING jobs a running limit holds (reason AssocGrpCpuLimit or AssocMaxJobsLimit). */
  heldJobs: number;
  submitsLastMinute: number;
  storedOutputBytes: number;
}

export interface Account extends AccountLimits {
  name: string;
  /** When an admin last set its limits; null: it has no row (no limits, 1 share). */
  updatedAt: Date | null;
  usage: AccountUsage;
}

/**
 * Accounts with their usage, by name: every row, and every account a token or a PENDING or RUNNING job names
 * (without a row: no limits); with `only`, that account alone (a user token's own). Answers [] for none.
 */
export async function listAccounts(db: Database, only?: string): Promise<Account[]> {
  const names = only
    ? sql`SELECT ${only}::text AS name`
    : sql`SELECT name FROM accounts
          UNION SELECT account FROM api_tokens WHERE account IS NOT NULL
          UNION SELECT DISTINCT account FROM jobs WHERE state IN ('PENDING', 'RUNNING')`;
  const rows = await queryRows(
    db,
    sql`WITH names AS (${names})
        SELECT n.name, a.max_running_cpus, a.max_running_jobs, a.max_pending_jobs, a.max_submits_per_minute,
               a.max_stored_output_bytes, coalesce(a.fairshare_shares, 1) AS fairshare_shares, a.updated_at,
               (SELECT coalesce(sum(cpus), 0) FROM jobs WHERE account = n.name AND state = 'RUNNING') AS running_cpus,
               (SELECT count(*) FROM jobs WHERE account = n.name AND state = 'RUNNING') AS running_jobs,
               (SELECT count(*) FROM jobs WHERE account = n.name AND state = 'PENDING') AS pending_jobs,
               (SELECT count(*) FROM jobs WHERE account = n.name AND state = 'PENDING'
                  AND reason = ANY (ARRAY['AssocGrpCpuLimit', 'AssocMaxJobsLimit'])) AS held_jobs,
               (SELECT count(*) FROM jobs WHERE account = n.name
                  AND submit_time > now() - interval '1 minute') AS submits_last_minute,
               (SELECT coalesce(sum(output_bytes), 0) FROM jobs WHERE account = n.name
                  AND output_purged_at IS NULL) AS stored_output_bytes
        FROM names n LEFT JOIN accounts a ON a.name = n.name
        ORDER BY n.name`,
  );
  return rows.map(toAccount);
}

/**
 * One account with its usage: its row, or (none) its defaults when a token or any job names it. Throws
 * AccountNotFound (404) for a name nothing knows.
 */
export async function getAccount(db: Database, name: string): Promise<Account> {
  const known = await queryRows(
    db,
    sql`SELECT 1 WHERE EXISTS (SELECT 1 FROM accounts WHERE name = ${name})
          OR EXISTS (SELECT 1 FROM api_tokens WHERE account = ${name})
          OR EXISTS (SELECT 1 FROM jobs WHERE account = ${name})`,
  );
  if (known.length === 0) throw new AccountNotFound(name);
  return (await listAccounts(db, name))[0]!;
}

/** Creates the account's row, or replaces every limit of it (a limit not given is none, shares 1). */
export async function putAccount(db: Database, name: string, limits: AccountLimits): Promise<void> {
  await db
    .insert(accounts)
    .values({ name, ...limits })
    .onConflictDoUpdate({ target: accounts.name, set: { ...limits, updatedAt: sql`now()` } });
}

/** Deletes the account's row (its limits: it has none afterwards). Throws AccountNotFound (404) when it has none. */
export async function deleteAccount(db: Database, name: string): Promise<void> {
  const deleted = await db
    .delete(accounts)
    .where(sql`${accounts.name} = ${name}`)
    .returning({ name: accounts.name });
  if (deleted.length === 0) throw new AccountNotFound(name);
}

function toAccount(row: Record<string, unknown>): Account {
  const limit = (value: unknown) => (value === null || value === undefined ? null : Number(value));
  return {
    name: String(row.name),
    maxRunningCpus: limit(row.max_running_cpus),
    maxRunningJobs: limit(row.max_running_jobs),
    maxPendingJobs: limit(row.max_pending_jobs),
    maxSubmitsPerMinute: limit(row.max_submits_per_minute),
    maxStoredOutputBytes: limit(row.max_stored_output_bytes),
    fairshareShares: Number(row.fairshare_shares),
    updatedAt: row.updated_at === null ? null : new Date(row.updated_at as string),
    usage: {
      runningCpus: Number(row.running_cpus),
      runningJobs: Number(row.running_jobs),
      pendingJobs: Number(row.pending_jobs),
      heldJobs: Number(row.held_jobs),
      submitsLastMinute: Number(row.submits_last_minute),
      storedOutputBytes: Number(row.stored_output_bytes),
    },
  };
}
