/**
 * An account's running limits (issue 19, item 2), enforced at the confirm, where PENDING becomes RUNNING: Slurm's
 * GrpTRES=cpu (max_running_cpus, reason AssocGrpCpuLimit) and GrpJobs (max_running_jobs, reason AssocMaxJobsLimit),
 * sacctmgr(1). A claimed job that would take its account past one is not started: it stays PENDING with the reason
 * stored on it, and its ref (settled by the node) is not put back, so no node claims it again and again; a run of its
 * account ending releases it (release-held-jobs.ts). The count and the start hold the account's advisory lock in the
 * confirm's transaction, so the limits hold however many API processes confirm at once.
 */
import { sql } from 'drizzle-orm';
import type { Database } from '../../shared/db/database.js';
import { bigintArray, wordArray } from '../../shared/db/pg-array.js';
import { queryRows } from '../../shared/db/query-rows.js';
import type { PendingReason } from '../../shared/job/pending-reason.js';
import { lockAccounts } from './account-locks.js';

/**
 * Of these claimed job ids, those their accounts' running limits let start now, in input order; the others, when
 * still PENDING, get their reason stored (AssocGrpCpuLimit when the CPUs are over, else AssocMaxJobsLimit). Jobs of
 * accounts without running limits pass without a lock. Within an account, the claimed jobs of higher priority (then
 * submit order) go first. Call it in the transaction that starts the jobs: the locks last until its end.
 */
export async function withinRunningLimits(tx: Database, ids: number[]): Promise<number[]> {
  const limited = await queryRows(
    tx,
    sql`SELECT DISTINCT j.account FROM jobs j JOIN accounts a ON a.name = j.account
        WHERE j.id = ANY(${bigintArray(ids)}) AND j.state = 'PENDING'
          AND (a.max_running_cpus IS NOT NULL OR a.max_running_jobs IS NOT NULL)`,
  );
  if (limited.length === 0) return ids;
  const accounts = limited.map((row) => String(row.account));
  await lockAccounts(tx, accounts);
  // Read under the locks: the limits as they are now, and every run of these accounts another confirm committed.
  const usage = await queryRows(
    tx,
    sql`SELECT a.name, a.max_running_cpus, a.max_running_jobs,
          (SELECT coalesce(sum(cpus), 0) FROM jobs WHERE account = a.name AND state = 'RUNNING') AS cpus,
          (SELECT count(*) FROM jobs WHERE account = a.name AND state = 'RUNNING') AS jobs
        FROM accounts a WHERE a.name = ANY(${wordArray(accounts)})`,
  );
  const claimed = await queryRows(
    tx,
    sql`SELECT id, account, cpus FROM jobs
        WHERE id = ANY(${bigintArray(ids)}) AND state = 'PENDING' AND account = ANY(${wordArray(accounts)})
        ORDER BY priority DESC, id`,
  );
  const room = new Map(
    usage.map((row) => [
      String(row.name),
      {
        cpus: row.max_running_cpus === null ? Infinity : Number(row.max_running_cpus) - Number(row.cpus),
        jobs: row.max_running_jobs === null ? Infinity : Number(row.max_running_jobs) - Number(row.jobs),
      },
    ]),
  );
  const held = new Map<number, PendingReason>();
  for (const job of claimed) {
    const left = room.get(String(job.account));
    if (!left) continue;
    const cpus = Number(job.cpus);
    if (cpus > left.cpus) held.set(Number(job.id), 'AssocGrpCpuLimit');
    else if (left.jobs < 1) held.set(Number(job.id), 'AssocMaxJobsLimit');
    else {
      left.cpus -= cpus;
      left.jobs -= 1;
    }
  }
  if (held.size === 0) return ids;
  await queryRows(
    tx,
    sql`UPDATE jobs SET reason = held.reason
        FROM jsonb_to_recordset(${JSON.stringify([...held].map(([id, reason]) => ({ id, reason })))}::jsonb)
          AS held (id bigint, reason text)
        WHERE jobs.id = held.id AND jobs.state = 'PENDING'`,
  );
  return ids.filter((id) => !held.has(id));
}
