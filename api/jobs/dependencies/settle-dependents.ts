/**
 * Ends a dependent job's wait (reason `Dependency`) when its conditions are decided, event-driven: every start and end
 * of a job passes through transitionJobs, which calls settleDependentsOf with what it moved; a submit settles its own
 * job; the reconciler re-decides every waiting job in batches, the safety net for what a crash between two statements
 * left. A satisfied job goes back to `Priority`, marked not enqueued (its ref is pushed by the caller, pushOwedRefs, or
 * the reconciler); one that can never start is CANCELLED with the event reason `DependencyNeverSatisfied` (its own
 * dependents are then decided in turn: an afterok on it never holds either), or, asked with kill_on_invalid_dep
 * false, kept PENDING with that reason, as Slurm's --kill-on-invalid-dep.
 */
import { sql, type SQL } from 'drizzle-orm';
import type { Database } from '../../../shared/db/database.js';
import { bigintArray, nullableWordArray, textArray } from '../../../shared/db/pg-array.js';
import { queryRows } from '../../../shared/db/query-rows.js';
import type { JobRow } from '../../../shared/db/schema.js';
import { isTerminal } from '../../../shared/job/job-state.js';
import type { TransitionResult } from '../transition-jobs.js';
import { transitionJobs } from '../transition-jobs.js';
import { decideConditions, judgeJobs } from './dependency-conditions.js';
import { lockSingletonNames, type JobName } from './singleton-locks.js';

/** The actor of the events a dependency's verdict writes. */
export const DEPENDENCY_ACTOR = 'conductor';

/** What to re-decide: the dependents of jobs that started or ended, the singleton jobs of names whose run ended, jobs. */
export interface DependentsScope {
  parents?: readonly number[];
  names?: readonly JobName[];
  jobs?: readonly number[];
}

export interface SettledDependents {
  released: number[];
  cancelled: number[];
  kept: number[];
}

/**
 * After a transition batch: re-decides the dependents of the jobs it moved out of PENDING (a start satisfies
 * `after`; an end the others; an array task stands for its array too) and the singleton jobs of the runs it ended.
 * A job nothing depends on (has_dependents false, as its transition returned it) costs no read for its dependents.
 */
export async function settleDependentsOf(db: Database, results: readonly TransitionResult<JobRow>[]): Promise<void> {
  const moved = results.filter(({ applied, before, after }) => applied && before!.state !== after!.state);
  const left = moved
    .filter(({ after }) => after!.state !== 'PENDING' && after!.hasDependents)
    .map(({ after }) => after!);
  const parents = [...new Set(left.flatMap((job) => (job.arrayJobId === null ? [job.id] : [job.id, job.arrayJobId])))];
  // A singleton job waits for every job of its name and user that runs or was submitted before it: what ends one of
  // those (a run's end, a PENDING job's cancel) may release it. A run sent back to PENDING (a retry) still blocks.
  // Its blockers are marked as having dependents when it is decided (markSingletonBlockers); no other job's end looks.
  const names = moved
    .filter(({ before, after }) => !isTerminal(before!.state) && isTerminal(after!.state) && after!.hasDependents)
    .map(({ after }) => ({ name: after!.name, user: after!.user }));
  if (parents.length === 0 && names.length === 0) return;
  await settleDependents(db, { parents, names });
}

/**
 * Re-decides the PENDING jobs waiting for a dependency within the scope, in one transaction: the singleton names'
 * locks, then the jobs' rows (in id order, waited for: two parents ending at once settle their common child one
 * after the other, the second seeing the first's verdict), then the verdicts. Answers what it did.
 */
export async function settleDependents(db: Database, scope: DependentsScope): Promise<SettledDependents> {
  const none = { released: [], cancelled: [], kept: [] };
  // Waited for before reading: a confirm or submit deciding a singleton job of these names has committed by then. In
  // a transaction (a run ended inside one) the lock is held to its end, so such a decision made after it sees the end.
  await lockSingletonNames(db, scope.names ?? []);
  const candidates = await waitingJobs(db, scope);
  if (candidates.length === 0) return none;
  return db.transaction(async (tx) => {
    await lockSingletonNames(tx, scope.names ?? []);
    const locked = await queryRows(
      tx,
      sql`SELECT id FROM jobs WHERE id = ANY(${bigintArray(candidates)}) AND state = 'PENDING' AND reason = 'Dependency'
          ORDER BY id FOR UPDATE`,
    );
    return applyVerdicts(
      tx,
      locked.map((row) => Number(row.id)),
    );
  });
}

/**
 * The reconciler's pass: re-decides up to `limit` waiting jobs with ids above `afterId` (rows another transaction
 * holds are skipped, for the next pass). Answers what it did and the last id looked at (0 when it reached the end).
 */
export async function settleWaitingDependents(
  db: Database,
  afterId: number,
  limit: number,
): Promise<SettledDependents & { lastId: number }> {
  return db.transaction(async (tx) => {
    const rows = await queryRows(
      tx,
      sql`SELECT id FROM jobs WHERE state = 'PENDING' AND reason = 'Dependency' AND id > ${afterId}
          ORDER BY id LIMIT ${limit} FOR UPDATE SKIP LOCKED`,
    );
    const ids = rows.map((row) => Number(row.id));
    const settled = await applyVerdicts(tx, ids);
    return { ...settled, lastId: ids.length < limit ? 0 : ids.at(-1)! };
  });
}

/** The PENDING jobs a scope names, read without locks (the caller locks those waiting); each part by its index. */
async function waitingJobs(db: Database, { parents = [], names = [], jobs = [] }: DependentsScope): Promise<number[]> {
  const parts: SQL[] = [];
  if (parents.length > 0) {
    parts.push(sql`SELECT d.job_id AS id FROM job_dependencies d
                   WHERE d.satisfied IS NULL AND d.parent_id = ANY(${bigintArray(parents)})`);
  }
  if (names.length > 0) {
    parts.push(sql`SELECT c.id FROM jobs c
                   JOIN unnest(${textArray(names.map((job) => job.name))},
                               ${nullableWordArray(names.map((job) => job.user))}) AS pair(name, owner)
                     ON c.name = pair.name AND c.unix_user IS NOT DISTINCT FROM pair.owner
                   WHERE c.state = 'PENDING' AND c.reason = 'Dependency'
                     AND EXISTS (SELECT 1 FROM job_dependencies s WHERE s.job_id = c.id AND s.kind = 'singleton')`);
  }
  if (jobs.length > 0) parts.push(sql`SELECT unnest(${bigintArray(jobs)}) AS id`);
  if (parts.length === 0) return [];
  const rows = await queryRows(
    db,
    // Any reason here: a confirm may be putting a job back to wait (dependency-starts.ts); the caller's lock waits for
    // it, and keeps the jobs whose reason is then Dependency.
    sql`SELECT c.id FROM jobs c
        WHERE c.id IN (${sql.join(parts, sql` UNION `)}) AND c.state = 'PENDING'
        ORDER BY c.id`,
  );
  return rows.map((row) => Number(row.id));
}

/** Decides these waiting jobs (locked, or locked by the statements that act on them) and acts on each verdict. */
export async function applyVerdicts(tx: Database, ids: readonly number[]): Promise<SettledDependents> {
  await decideConditions(tx, ids);
  const verdicts = await judgeJobs(tx, ids);
  const released = verdicts.filter((job) => job.verdict === 'release').map((job) => job.id);
  const doomed = verdicts.filter((job) => job.verdict === 'never');
  const cancelled = doomed.filter((job) => job.killOnInvalid).map((job) => job.id);
  const kept = doomed.filter((job) => !job.killOnInvalid).map((job) => job.id);
  if (released.length > 0) {
    await queryRows(
      tx,
      sql`UPDATE jobs SET reason = 'Priority', enqueued = false WHERE id = ANY(${bigintArray(released)})`,
    );
  }
  if (kept.length > 0) {
    // The note first (a note keeps the stored reason), then the reason it is kept with.
    await transitionJobs(tx, {
      jobs: kept.map((id) => ({ id, to: 'PENDING', reason: 'DependencyNeverSatisfied' })),
      from: ['PENDING'],
      actor: DEPENDENCY_ACTOR,
    });
    await queryRows(tx, sql`UPDATE jobs SET reason = 'DependencyNeverSatisfied' WHERE id = ANY(${bigintArray(kept)})`);
  }
  // Last: ending them settles their own dependents in turn (transitionJobs calls settleDependentsOf).
  await transitionJobs(tx, {
    jobs: cancelled.map((id) => ({ id, to: 'CANCELLED', reason: 'DependencyNeverSatisfied' })),
    from: ['PENDING'],
    where: sql`current.reason = 'Dependency'`,
    actor: DEPENDENCY_ACTOR,
  });
  if (cancelled.length > 0) {
    // As scontrol shows such a job: CANCELLED, Reason=DependencyNeverSatisfied (an end clears the reason otherwise).
    await queryRows(
      tx,
      sql`UPDATE jobs SET reason = 'DependencyNeverSatisfied' WHERE id = ANY(${bigintArray(cancelled)}) AND state = 'CANCELLED'`,
    );
  }
  return { released, cancelled, kept };
}
