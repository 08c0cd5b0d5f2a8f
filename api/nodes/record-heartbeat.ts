import { and, eq, isNotNull, sql } from 'drizzle-orm';
import type { Database } from '../../shared/db/database.js';
import { bigintArray, intArray } from '../../shared/db/pg-array.js';
import { queryRows } from '../../shared/db/query-rows.js';
import { jobs, nodes } from '../../shared/db/schema.js';
import type { NodeState } from '../../shared/node-state.js';
import type { ContainmentLevels } from '../../shared/protocol/containment.js';
import type { RunsAs } from '../../shared/protocol/runs-as.js';
import { settleUnlistedRuns } from './settle-unlisted-runs.js';

export interface Heartbeat {
  node: string;
  partitions: string[];
  cpus: number;
  memoryMb: number;
  /** The protocol version its request was in, and the daemon's software version when it said. */
  protocol: number;
  daemonVersion: string | null;
  /** How the node contains its jobs, when its daemon says (older daemons do not). */
  containment: ContainmentLevels | null;
  /** How it runs jobs (protocol 3; a daemon before says nothing: UNSAID_RUNS_AS). */
  runsAs: RunsAs;
  /** The jobs the node is running, as it knows them. */
  running: { jobId: number; attempt: number }[];
  /** Runs that ended there whose end the API has not acknowledged yet. */
  ended: { jobId: number; attempt: number }[];
  /**
   * The highest confirm sequence whose jobs the node had journaled when it sent the heartbeat; undefined from a daemon
   * that does not say (an older daemon, or one that has not confirmed since it started).
   */
  confirmedThrough: number | undefined;
  /** Who settles the runs the node no longer has: `node:<name>`. */
  actor: string;
  /** The lease this heartbeat grants, in ms from now (the database's clock); null: one that never expires. */
  leaseMs: number | null;
}

type JobAttempt = { jobId: number; attempt: number };

/**
 * Registers a node on its first heartbeat and notes each later one, with its capacity as it reports it. A DOWN node
 * that speaks again is UP, or DRAINING if an admin drained it. Answers the node's state, the RUNNING jobs on it whose
 * cancel was asked for (how a cancel reaches the node), and the runs it reported that are no longer its to run: a
 * job settled while the node was DOWN (requeued elsewhere, or ended), which it must stop without reporting, and how
 * many of its runs it settled as unlisted (their ends may have released other jobs: the caller pushes their refs).
 *
 * Each heartbeat renews the node's lease (`leaseMs` from now): its jobs are not settled as lost before it ends.
 *
 * A heartbeat that says how far its confirms are journaled also settles the jobs RUNNING on the node that it no longer
 * has (settle-unlisted-runs.ts); without that number, such jobs are left RUNNING until the node is lost.
 */
export async function recordHeartbeat(
  db: Database,
  beat: Heartbeat,
): Promise<{ state: NodeState; cancel: JobAttempt[]; stop: JobAttempt[]; settled: number }> {
  // What the heartbeat says of the node, written whether the node is new or known.
  const said = {
    partitions: beat.partitions,
    cpus: beat.cpus,
    memoryMb: beat.memoryMb,
    lastHeartbeat: sql`now()`,
    protocol: beat.protocol,
    daemonVersion: beat.daemonVersion,
    containment: beat.containment,
    runsAnyUser: beat.runsAs.any_user,
    runsUsers: beat.runsAs.users,
    runsUnnamed: beat.runsAs.unnamed,
    // Renewed only here: the reconciler settles the node's jobs once it has passed (settle-lost-nodes.ts).
    leaseExpiresAt: beat.leaseMs === null ? null : sql`now() + ${beat.leaseMs} * interval '1 millisecond'`,
  };
  const [row] = await db
    .insert(nodes)
    .values({ name: beat.node, state: 'UP', ...said })
    .onConflictDoUpdate({
      target: nodes.name,
      set: {
        ...said,
        state: sql`CASE WHEN ${nodes.state} <> 'DOWN' THEN ${nodes.state} WHEN ${nodes.drained} THEN 'DRAINING' ELSE 'UP' END`,
      },
    })
    .returning({ state: nodes.state });
  const settled =
    beat.confirmedThrough === undefined
      ? 0
      : await settleUnlistedRuns(db, {
          node: beat.node,
          runs: [...beat.running, ...beat.ended],
          confirmedThrough: beat.confirmedThrough,
          actor: beat.actor,
        });
  const cancel = await db
    .select({ jobId: jobs.id, attempt: jobs.attempt })
    .from(jobs)
    .where(and(eq(jobs.nodeName, beat.node), eq(jobs.state, 'RUNNING'), isNotNull(jobs.cancelRequestedAt)));
  return { state: row!.state, cancel, stop: await notMine(db, beat), settled };
}

async function notMine(db: Database, beat: Heartbeat): Promise<JobAttempt[]> {
  if (beat.running.length === 0) return [];
  const rows = await queryRows(
    db,
    sql`
      SELECT r.job_id, r.attempt
      FROM unnest(${bigintArray(beat.running.map((run) => run.jobId))},
                  ${intArray(beat.running.map((run) => run.attempt))}) AS r(job_id, attempt)
      WHERE NOT EXISTS (
        SELECT 1 FROM jobs j
        WHERE j.id = r.job_id AND j.state = 'RUNNING' AND j.node_name = ${beat.node} AND j.attempt = r.attempt
      )
    `,
  );
  return rows.map((row) => ({ jobId: Number(row.job_id), attempt: Number(row.attempt) }));
}
