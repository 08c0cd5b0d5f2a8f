/**
 * A PENDING job's dependency replaced, as `scontrol update JobId=… Dependency=…` (scontrol(1)); an empty list clears
 * it, as Slurm's `Dependency=` does. The new list is checked as a submit's (insert-dependent-job.ts): parents must
 * exist and be the updater's to see. Slurm refuses a circular dependency ("Circular job dependency") and accepts one on
 * a later job otherwise; here a parent must be older than its child (job_dependencies' CHECK keeps the graph acyclic
 * by construction), so a later job, the job itself or its own array is refused: no cycle can be made.
 *
 * The new conditions replace the old rows and are decided at once from the parents' states now: a job that waits for
 * nothing else is then released (Priority), waits (Dependency), or can never start (DependencyNeverSatisfied, or
 * cancelled with kill_on_invalid_dep, which the job keeps from its old list, yes by default). A job held or waiting
 * for its begin time keeps that wait; its dependency is decided when the wait ends (its release, or its confirm:
 * dependency-starts.ts).
 */
import { sql } from 'drizzle-orm';
import type { Database } from '../../../shared/db/database.js';
import { queryRows } from '../../../shared/db/query-rows.js';
import type { JobRow } from '../../../shared/db/schema.js';
import { formatDependency, parseDependency, type DependencyKind } from '../../../shared/job/dependency.js';
import { isWorkflowWait } from '../../../shared/job/pending-reason.js';
import { ValidationFailed } from '../../http/errors.js';
import { decideConditions, judgeJobs } from './dependency-conditions.js';
import { insertConditions, lockParents } from './insert-dependent-job.js';
import { lockSingletonNames } from './singleton-locks.js';

const DEPENDENCY_WAITS: readonly (string | null)[] = ['Dependency', 'DependencyNeverSatisfied'];

/** What a new dependency makes of the job: its reason, the wait a hold gives back, the list before and after. */
export interface DependencyUpdate {
  reason: JobRow['reason'];
  reasonBeforeHold: JobRow['reasonBeforeHold'];
  from: string | null;
  to: string | null;
  /** Its new list can never hold and kill_on_invalid_dep is yes: to be cancelled once the update is recorded. */
  doomed: boolean;
}

/**
 * Replaces the dependency of the locked PENDING job (`text`: sbatch's list, already parsed once by the body's schema;
 * '' clears it). `reason`, `eligibleTime`: the job's after the update's other fields (a new begin time). `viewer`: a user
 * token's account, undefined for an admin. Throws ValidationFailed (422, field `dependency`) for a parent that is
 * unknown, not the viewer's, the job itself, its own array, or submitted after it.
 */
export async function replaceDependency(
  tx: Database,
  job: JobRow,
  text: string,
  { reason, eligibleTime }: Pick<JobRow, 'reason' | 'eligibleTime'>,
  viewer: string | undefined,
  now: Date,
): Promise<DependencyUpdate> {
  // Free of its dependency, a job whose begin time is still to come waits for that.
  const free = eligibleTime.getTime() > now.getTime() ? 'BeginTime' : 'Priority';
  const old = await queryRows(
    tx,
    sql`SELECT kind, parent_id, any_of, kill_on_invalid FROM job_dependencies WHERE job_id = ${job.id} ORDER BY position`,
  );
  const from = old.length === 0 ? null : formatDependency(old.map(item), old[0]!.any_of === true ? 'any' : 'all');
  const killOnInvalid = old.length === 0 || old.every((row) => row.kill_on_invalid === true);
  const named = text === '' ? null : parseDependency(text);
  // Unknown first: a later job of another account is as unknown as a missing one, never named as later.
  const dependency = named === null ? null : await lockParents(tx, named, viewer, 'dependency');
  if (dependency !== null) {
    refuseCycles(
      job,
      dependency.items.flatMap((entry) => (entry.parentId === null ? [] : [entry.parentId])),
    );
  }
  await queryRows(tx, sql`DELETE FROM job_dependencies WHERE job_id = ${job.id}`);
  const to = dependency === null ? null : formatDependency(dependency.items, dependency.combine);
  // Another wait (a hold, a begin time to come, an array's cap) stays the reason; a hold gives back the new one.
  const otherWait = isWorkflowWait(reason) && !DEPENDENCY_WAITS.includes(reason);
  const held = reason === 'JobHeldUser' || reason === 'JobHeldAdmin';
  const before = held && DEPENDENCY_WAITS.includes(job.reasonBeforeHold) ? null : job.reasonBeforeHold;
  const reasonBeforeHold = held && dependency !== null ? 'Dependency' : before;
  if (dependency === null) {
    if (otherWait) return { reason, reasonBeforeHold, from, to, doomed: false };
    const waits = DEPENDENCY_WAITS.includes(reason) || reason === null;
    return { reason: waits ? free : reason, reasonBeforeHold, from, to, doomed: false };
  }
  await insertConditions(tx, dependency, killOnInvalid, sql`id = ${job.id}`);
  if (otherWait) return { reason, reasonBeforeHold, from, to, doomed: false };
  if (dependency.items.some((entry) => entry.kind === 'singleton')) {
    await lockSingletonNames(tx, [{ name: job.name, user: job.user }]);
  }
  await decideConditions(tx, [job.id]);
  const [judged] = await judgeJobs(tx, [job.id]);
  const verdict = judged?.verdict ?? 'release';
  if (verdict === 'release') return { reason: free, reasonBeforeHold, from, to, doomed: false };
  if (verdict === 'wait') return { reason: 'Dependency', reasonBeforeHold, from, to, doomed: false };
  return killOnInvalid
    ? { reason: 'Dependency', reasonBeforeHold, from, to, doomed: true }
    : { reason: 'DependencyNeverSatisfied', reasonBeforeHold, from, to, doomed: false };
}

function item(row: Record<string, unknown>): { kind: DependencyKind; parentId: number | null } {
  return { kind: row.kind as DependencyKind, parentId: row.parent_id === null ? null : Number(row.parent_id) };
}

/** Refuses a parent that is the job, its own array (every task, itself among them), or newer than it. */
function refuseCycles(job: Pick<JobRow, 'id' | 'arrayJobId'>, parents: number[]): void {
  const messages = parents.flatMap((parent) => {
    if (parent === job.id || parent === job.arrayJobId) {
      return [
        `job ${job.id} cannot depend on ${parent === job.id ? 'itself' : 'its own array'}: a circular dependency`,
      ];
    }
    if (parent > job.id) {
      return [
        `job ${parent} was submitted after job ${job.id}: a job may depend only on jobs submitted before it, so that no circular dependency can be made`,
      ];
    }
    return [];
  });
  if (messages.length > 0) {
    throw new ValidationFailed(messages.map((message) => ({ field: 'dependency', message })));
  }
}
