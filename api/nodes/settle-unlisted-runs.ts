import { sql } from 'drizzle-orm';
import type { Database } from '../../shared/db/database.js';
import { bigintArray, intArray } from '../../shared/db/pg-array.js';
import { queryRows } from '../../shared/db/query-rows.js';
import { transitionJobs } from '../jobs/transition-jobs.js';

/** What a heartbeat says the node holds: every run it has not forgotten, and how far its confirms are journaled. */
export interface HeldRuns {
  node: string;
  /** Running, or ended with the end not acknowledged yet. */
  runs: { jobId: number; attempt: number }[];
  /** The highest confirm sequence whose jobs the node had journaled when it sent the heartbeat. */
  confirmedThrough: number;
  actor: string;
}

/**
 * Settles the jobs RUNNING on the node that it no longer has: confirmed to it under a sequence no higher than
 * `confirmedThrough` (so it had journaled them before it sent this heartbeat), and not among its runs. A heartbeat
 * racing a confirm never settles the job that confirm handed out (its sequence is higher), nor a job requeued and
 * confirmed to the node again meanwhile (a new attempt, a new sequence): the transition checks both again on the row
 * it locks.
 *
 * They are settled as node loss settles a node's jobs (api/nodes/settle-lost-nodes.ts), because the cause is the
 * node's, not the job's: a daemon forgets a run only once the API has acknowledged its end, so a run it does not list
 * was lost with its journal (wiped, or a node reinstalled under the same name), or its confirm's answer never reached
 * it. A job that asked for requeue goes back to PENDING as a new attempt; one whose cancel was asked for ends
 * CANCELLED; the others end FAILED, their error_msg saying the run was lost there. Slurm makes the same check when a
 * slurmd reports the jobs it runs, and ends a batch job its node should run and does not (Slurm FAQ, "Batch JobId=#
 * missing from batch node"); it keeps a just-launched job out of it by time (BatchStartTimeout), this by sequence.
 * Answers how many it settled.
 */
export async function settleUnlistedRuns(db: Database, held: HeldRuns): Promise<number> {
  const candidates = await unlisted(db, held, false);
  if (candidates.length === 0) return 0;
  return db.transaction(async (tx) => {
    // Locked until the transaction ends: their requeue and cancel flags cannot change between this read and the moves.
    const lost = await unlisted(tx, held, true);
    // The same conditions again on the row each transition locks: a job moved on meanwhile is left as it is.
    const stillLost = sql`current.node_name = ${held.node} AND current.attempt = input.attempt
                          AND current.confirm_seq <= ${held.confirmedThrough}`;
    const inputs = { attempt: 'integer' };
    const requeued = await transitionJobs(tx, {
      jobs: lost
        .filter((job) => job.requeue)
        .map((job) => ({
          id: job.id,
          to: 'PENDING',
          reason: `run lost on ${held.node}: requeued`,
          values: { attempt: job.attempt },
        })),
      from: ['RUNNING'],
      inputs,
      set: sql`enqueued = false, node_name = NULL, start_time = NULL, cpu_ids = NULL, pid = NULL, confirm_seq = NULL`,
      where: stillLost,
      actor: held.actor,
    });
    const ended = await transitionJobs(tx, {
      jobs: lost
        .filter((job) => !job.requeue)
        .map((job) => ({
          id: job.id,
          to: job.cancelled ? 'CANCELLED' : 'FAILED',
          reason: `run lost on ${held.node}`,
          values: { attempt: job.attempt },
        })),
      from: ['RUNNING'],
      inputs,
      set: sql`error_msg = ${`node ${held.node} no longer has this run (its heartbeat does not list it): the run was lost there`}`,
      where: stillLost,
      actor: held.actor,
    });
    return [...requeued, ...ended].filter((result) => result.applied).length;
  });
}

interface LostRun {
  id: number;
  attempt: number;
  requeue: boolean;
  cancelled: boolean;
}

async function unlisted(db: Database, held: HeldRuns, lock: boolean): Promise<LostRun[]> {
  const rows = await queryRows(
    db,
    sql`
      SELECT j.id, j.attempt, j.requeue AND j.cancel_requested_at IS NULL AS requeue,
             j.cancel_requested_at IS NOT NULL AS cancelled
      FROM jobs j
      WHERE j.node_name = ${held.node} AND j.state = 'RUNNING' AND j.confirm_seq <= ${held.confirmedThrough}
        AND NOT EXISTS (
          SELECT 1 FROM unnest(${bigintArray(held.runs.map((run) => run.jobId))},
                               ${intArray(held.runs.map((run) => run.attempt))}) AS r(job_id, attempt)
          WHERE r.job_id = j.id AND r.attempt = j.attempt
        )
      ORDER BY j.id
      ${lock ? sql`FOR UPDATE OF j` : sql``}
    `,
  );
  return rows.map((row) => ({
    id: Number(row.id),
    attempt: Number(row.attempt),
    requeue: row.requeue === true,
    cancelled: row.cancelled === true,
  }));
}
