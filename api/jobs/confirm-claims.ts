import { and, eq, isNull, sql } from 'drizzle-orm';
import type { Database } from '../../shared/db/database.js';
import { bigintArray, wordArray } from '../../shared/db/pg-array.js';
import { queryRows } from '../../shared/db/query-rows.js';
import { jobs, nodes, type JobRow } from '../../shared/db/schema.js';
import { withinRunningLimits } from '../accounts/running-limits.js';
import { nodeRunsOwner } from '../nodes/runs-owner.js';
import { partitionStartsJobs } from '../partitions/partition-starts.js';
import { withinArrayLimits } from './array-task-limit.js';
import { noWorkflowWait } from './out-of-queue.js';
import { withinDependencies } from './dependencies/dependency-starts.js';
import { transitionJobs } from './transition-jobs.js';

/**
 * Makes the claimed jobs that are still PENDING RUNNING on this node, as one conditional statement: a job runs at most
 * once per attempt, whoever else holds a ref to it (docs/architecture.md, invariant 3). Each start is a new attempt and
 * an event. A job whose owner the node does not run (nodes.runs_*) is not started. Answers the started jobs (script
 * included: the node runs them) and the ids it dropped, which were no longer PENDING (cancelled, or started by another
 * ref), and the node's confirm sequence after it.
 *
 * The sequence is raised and the started jobs stamped with it in one transaction (the node's row locked until the
 * commit, so a node's confirms take their numbers in the order they commit): a heartbeat that says which sequence its
 * daemon had journaled through lets the API settle only the runs confirmed before it was sent
 * (api/nodes/settle-unlisted-runs.ts). With `partitions` (a node token's grant), a job of any other partition is not
 * started, whatever the claim said (issue 12, item 5). Nor is a job its account's running limits hold: it is dropped
 * and stays PENDING with that reason (api/accounts/running-limits.ts).
 */
export async function confirmClaims(
  db: Database,
  node: string,
  ids: number[],
  actor: string,
  partitions?: readonly string[],
): Promise<{ started: JobRow[]; dropped: number[]; sequence: number }> {
  if (ids.length === 0) return { started: [], dropped: [], sequence: await confirmSequence(db, node) };
  return db.transaction(async (tx) => {
    const [raised] = await queryRows(
      tx,
      sql`UPDATE nodes SET confirm_seq = confirm_seq + 1 WHERE name = ${node} RETURNING confirm_seq`,
    );
    // No such node: the state check below starts nothing, and nothing was ever confirmed to it.
    const sequence = raised === undefined ? 0 : Number(raised.confirm_seq);
    const results = await transitionJobs(tx, {
      jobs: (await withinStartChecks(tx, ids)).map((id) => ({ id, to: 'RUNNING', reason: `started on ${node}` })),
      from: ['PENDING'],
      set: sql`node_name = ${node}, start_time = now(), attempt = current.attempt + 1, confirm_seq = ${sequence}`,
      // Checked in the same statement: a node marked DOWN or drained meanwhile starts nothing, and a node starts only
      // jobs whose owner it runs (its heartbeat's runs_as), whatever its claim said; and only from partitions that
      // start jobs (not DOWN or INACTIVE); and never a job a hold, begin time, dependency or array cap holds.
      where: sql`EXISTS (SELECT 1 FROM nodes n WHERE n.name = ${node} AND n.state = 'UP'
                         AND ${nodeRunsOwner('n', sql`current.unix_user`)})
        ${partitions ? sql`AND current.partition = ANY(${wordArray(partitions)})` : sql``}
        AND ${partitionStartsJobs(sql`current.partition`)}
        AND ${noWorkflowWait(sql`current.reason`)}`,
      actor,
      whole: true,
    });
    const started = results.filter((result) => result.applied).map((result) => result.after!);
    const startedIds = new Set(started.map((job) => job.id));
    return {
      started: started.sort((a, b) => a.id - b.id),
      dropped: ids.filter((id) => !startedIds.has(id)),
      sequence,
    };
  });
}

/**
 * Of these claimed job ids, those the start checks let start, in input order. Its account's running limits first: a
 * job over one stays PENDING, its reason stored (api/accounts). Then its dependency, singleton's one job per name and
 * user included (dependencies/dependency-starts.ts). Then its array's %N cap (array-task-limit.ts). One read says
 * which checks concern any of the jobs, so a claim of plain jobs costs one statement for the three.
 */
async function withinStartChecks(tx: Database, ids: number[]): Promise<number[]> {
  const [concern] = await queryRows(
    tx,
    sql`SELECT coalesce(bool_or(a.max_running_cpus IS NOT NULL OR a.max_running_jobs IS NOT NULL), false) AS limited,
               coalesce(bool_or(EXISTS (SELECT 1 FROM job_dependencies d WHERE d.job_id = j.id)), false) AS dependent,
               coalesce(bool_or(j.array_task_limit IS NOT NULL), false) AS capped
        FROM jobs j LEFT JOIN accounts a ON a.name = j.account
        WHERE j.id = ANY(${bigintArray(ids)}) AND j.state = 'PENDING'`,
  );
  let starting = ids;
  if (concern?.limited === true) starting = await withinRunningLimits(tx, starting);
  if (concern?.dependent === true) starting = await withinDependencies(tx, starting);
  if (concern?.capped === true) starting = await withinArrayLimits(tx, starting);
  return starting;
}

/** The node's confirm sequence now: 0 for a node never seen (nothing was ever confirmed to it). */
export async function confirmSequence(db: Database, node: string): Promise<number> {
  const [row] = await db.select({ sequence: nodes.confirmSeq }).from(nodes).where(eq(nodes.name, node));
  return row?.sequence ?? 0;
}

/**
 * Of these ids, the jobs RUNNING on this node whose start it has not reported yet. A confirm retried after its
 * answer was lost (or by a daemon that died before it could journal the answer) finds its jobs already RUNNING and
 * gets them again: without this the job would be RUNNING on a node that never heard of it.
 */
export async function unreportedRuns(db: Database, node: string, ids: number[]): Promise<JobRow[]> {
  if (ids.length === 0) return [];
  return db
    .select()
    .from(jobs)
    .where(
      and(
        sql`${jobs.id} = ANY(${bigintArray(ids)})`,
        eq(jobs.state, 'RUNNING'),
        eq(jobs.nodeName, node),
        isNull(jobs.pid),
      ),
    )
    .orderBy(jobs.id);
}

/** Of these ids, the jobs of a partition outside `granted`, with their partitions, in id order. */
export async function jobsOutsidePartitions(
  db: Database,
  ids: number[],
  granted: readonly string[],
): Promise<{ id: number; partition: string }[]> {
  if (ids.length === 0) return [];
  return db
    .select({ id: jobs.id, partition: jobs.partition })
    .from(jobs)
    .where(and(sql`${jobs.id} = ANY(${bigintArray(ids)})`, sql`NOT ${jobs.partition} = ANY(${wordArray(granted)})`))
    .orderBy(jobs.id);
}

/**
 * Of these ids, the jobs this node must hand back to the queue rather than start, in id order: those whose owner it
 * does not run (its heartbeat's runs_as; every one, for a node never seen) and those whose partition starts nothing
 * now (DOWN, INACTIVE or gone), which wait in the queue, where claims skip them until the partition is UP again.
 * One statement for both: it runs on every confirm.
 */
export async function claimsToHandBack(db: Database, node: string, ids: number[]): Promise<number[]> {
  if (ids.length === 0) return [];
  const rows = await queryRows(
    db,
    sql`SELECT j.id FROM jobs j LEFT JOIN nodes n ON n.name = ${node}
        WHERE j.id = ANY(${bigintArray(ids)})
          AND (NOT coalesce(${nodeRunsOwner('n', sql`j.unix_user`)}, false) OR NOT ${partitionStartsJobs(sql`j.partition`)})
        ORDER BY j.id`,
  );
  return rows.map((row) => Number(row.id));
}
