/**
 * A dependent job's dependency as GET shows it: the conditions still unsatisfied, as squeue's %E ("job dependencies
 * remaining") writes them in Slurm 20 and later, `afterok:12(unfulfilled),afterany:14(unfulfilled)`, one that never
 * can be `afterok:12(failed)`; null when none remain (or it had none). And the words of its reason_detail: what each
 * condition waits for, with its parent's state now.
 */
import { sql } from 'drizzle-orm';
import type { Database } from '../../../shared/db/database.js';
import { queryRows } from '../../../shared/db/query-rows.js';
import type { JobRow } from '../../../shared/db/schema.js';
import type { PendingReason } from '../pending-reasons.js';
import { conditionsNow, singletonBlocker } from './dependency-conditions.js';

export interface DependencyShown {
  /** The remaining conditions, as squeue's %E; null: none. */
  remaining: string | null;
  /** "afterok:12 (RUNNING), singleton (job 15 of this name runs)"; null: none remains. */
  waitingFor: string | null;
}

/**
 * The job's remaining conditions and what they wait for, read now. Only a job that waits has any to show (squeue's %E
 * of a job that started or ended is "(null)"), or one ended because its dependency never could hold: any other is
 * answered without a read.
 */
export async function showDependency(
  db: Database,
  { id: jobId, state, reason }: Pick<JobRow, 'id' | 'state' | 'reason'>,
): Promise<DependencyShown> {
  if (state !== 'PENDING' && reason !== 'DependencyNeverSatisfied') return { remaining: null, waitingFor: null };
  const stored = await queryRows(
    db,
    sql`SELECT d.position, d.kind, d.parent_id, d.any_of, d.satisfied,
               -- Singleton is per name and user, whatever the account (sbatch(1)); another account's job is not
               -- named (0): a user token sees its own account's jobs only.
               (SELECT CASE WHEN r.account = c.account THEN r.id ELSE 0 END FROM jobs r
                WHERE d.kind = 'singleton' AND ${singletonBlocker(sql`r`, sql`c`)} ORDER BY r.id LIMIT 1) AS running_id,
               (SELECT r.state FROM jobs r
                WHERE d.kind = 'singleton' AND ${singletonBlocker(sql`r`, sql`c`)} ORDER BY r.id LIMIT 1) AS blocker_state,
               (SELECT count(*) FROM jobs p WHERE p.id = d.parent_id OR p.array_job_id = d.parent_id) AS parents,
               (SELECT min(p.state) FROM jobs p WHERE p.id = d.parent_id) AS parent_state,
               (SELECT count(*) FROM jobs p WHERE p.array_job_id = d.parent_id
                  AND p.state NOT IN ('PENDING', 'RUNNING')) AS tasks_ended
        FROM job_dependencies d JOIN jobs c ON c.id = d.job_id
        WHERE d.job_id = ${jobId} AND (d.satisfied IS NULL OR NOT d.satisfied)
        ORDER BY d.position`,
  );
  // A condition not yet stored as decided (its job held or not begun when its parent ended) is shown as it stands.
  const now = stored.some((row) => row.satisfied === null) ? await conditionsNow(db, jobId) : new Map();
  const rows = stored
    .map((row): Record<string, unknown> => ({
      ...row,
      satisfied: row.satisfied ?? now.get(Number(row.position)) ?? null,
    }))
    .filter((row) => row.satisfied !== true);
  if (rows.length === 0) return { remaining: null, waitingFor: null };
  const separator = rows[0]!.any_of === true ? '?' : ',';
  const named = (row: Record<string, unknown>) =>
    row.parent_id === null ? String(row.kind) : `${String(row.kind)}:${String(row.parent_id)}`;
  const remaining = rows
    .map((row) => `${named(row)}(${row.satisfied === false ? 'failed' : 'unfulfilled'})`)
    .join(separator);
  const waitingFor = rows.map((row) => `${named(row)} (${parentNow(row)})`).join(separator === '?' ? ' or ' : ', ');
  return { remaining, waitingFor };
}

function parentNow(row: Record<string, unknown>): string {
  if (row.kind === 'singleton') {
    if (row.running_id === null) return 'no job of this name runs';
    const verb = row.blocker_state === 'RUNNING' ? 'runs' : 'was submitted before it and waits';
    if (Number(row.running_id) === 0) return `a job of this name and user ${verb} in another account`;
    return `job ${String(row.running_id)} of this name ${verb}`;
  }
  const parents = Number(row.parents);
  const state = row.satisfied === false ? 'never satisfied: ' : '';
  if (parents > 1) return `${state}${Number(row.tasks_ended)} of ${parents} array tasks ended`;
  return `${state}${row.parent_state === null ? 'gone' : String(row.parent_state)}`;
}

/**
 * A dependency wait's reason_detail naming what it waits for ("waits for afterok:12 (RUNNING)"), over the general
 * words of decide-pending-reason.ts; any other reason as it was.
 */
export function withDependencyDetail(
  pending: PendingReason | undefined,
  { waitingFor }: DependencyShown,
): PendingReason | undefined {
  if (pending === undefined || waitingFor === null) return pending;
  if (pending.reason === 'Dependency') return { ...pending, detail: `waits for ${waitingFor}` };
  if (pending.reason === 'DependencyNeverSatisfied') {
    return { ...pending, detail: `a dependency of it can never be satisfied: ${waitingFor}` };
  }
  return pending;
}
