import { sql } from 'drizzle-orm';
import type { Database } from '../../shared/db/database.js';
import { queryRows } from '../../shared/db/query-rows.js';
import { decideRetry } from '../jobs/retry-decision.js';
import { readRetryInputs, retryRuns } from '../jobs/retry-runs.js';
import { transitionJobs } from '../jobs/transition-jobs.js';

/** The actor of a lost node's settlements: a late report of such a run is kept in its job's events (late-run-reports.ts). */
export const LOST_NODE_ACTOR = 'reconciler';
const ACTOR = LOST_NODE_ACTOR;

/**
 * Marks DOWN the nodes whose lease has ended (each heartbeat renews it: record-heartbeat.ts; a node that cannot renew
 * it has stopped its runs by then, so nothing of the jobs settled here still runs; a lease that never expires never
 * ends here), and settles the jobs RUNNING on any DOWN node (also one
 * that went down earlier: a confirm that raced the marking is settled at the next run), in one transaction: those
 * whose retry policy retries node_fail go back to PENDING (retry-runs.ts: their next start is a new attempt, and the
 * lost attempt's reports are refused), the others end NODE_FAIL. A job whose cancel was asked for ends CANCELLED
 * rather than run again. Answers the nodes marked DOWN and how many jobs went back to PENDING.
 */
export async function settleLostNodes(db: Database): Promise<{ nodes: string[]; requeued: number }> {
  return db.transaction(async (tx) => {
    const down = await queryRows(
      tx,
      sql`UPDATE nodes SET state = 'DOWN'
          WHERE state <> 'DOWN' AND lease_expires_at < now()
          RETURNING name`,
    );
    // Locked until the transaction ends: nothing else moves them between this read and their transitions.
    const lost = await queryRows(
      tx,
      sql`SELECT id, node_name, attempt, cancel_requested_at IS NOT NULL AS cancelled
          FROM jobs WHERE state = 'RUNNING' AND node_name IN (SELECT name FROM nodes WHERE state = 'DOWN')
          ORDER BY id FOR UPDATE`,
    );
    const onLostNode = sql`current.node_name IN (SELECT name FROM nodes WHERE state = 'DOWN')`;
    const inputs = await readRetryInputs(
      tx,
      lost.map((job) => Number(job.id)),
    );
    // A job whose policy retries node_fail goes back to PENDING (retry-decision.ts); a cancelled one never.
    const retried = lost.flatMap((job) => {
      const outcome = {
        state: 'NODE_FAIL',
        exit_status: null,
        exit_signal: null,
        error_msg: lostMessage(job),
      } as const;
      const retry =
        job.cancelled !== true &&
        decideRetry({ ...inputs.get(Number(job.id))!, attempt: Number(job.attempt), outcome });
      return retry ? [{ id: Number(job.id), attempt: Number(job.attempt), retry }] : [];
    });
    const requeued = await retryRuns(tx, retried, { actor: ACTOR, where: onLostNode });
    const isRetried = new Set(retried.filter((_, i) => requeued[i]!.applied).map((job) => job.id));
    await transitionJobs(tx, {
      jobs: lost
        .filter((job) => !isRetried.has(Number(job.id)))
        .map((job) => ({
          id: Number(job.id),
          to: job.cancelled === true ? 'CANCELLED' : 'NODE_FAIL',
          reason: lostMessage(job),
        })),
      from: ['RUNNING'],
      set: sql`error_msg = 'node ' || current.node_name || ' stopped answering'`,
      where: onLostNode,
      actor: ACTOR,
    });
    return { nodes: down.map((row) => String(row.name)), requeued: isRetried.size };
  });
}

/** The event reason of a run settled with its lost node: `node n1 lost`. */
function lostMessage(job: Record<string, unknown>): string {
  return `node ${String(job.node_name)} lost`;
}
