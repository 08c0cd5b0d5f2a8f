import { sql } from 'drizzle-orm';
import type { Database } from '../../shared/db/database.js';
import { queryRows } from '../../shared/db/query-rows.js';

/**
 * Marks DOWN the nodes silent for longer than `silenceMs`, and settles the jobs RUNNING on any DOWN node (also one
 * that went down earlier: a confirm that raced the marking is settled at the next run), in one transaction: those that asked for requeue go back to PENDING (marked not enqueued, so the reconciler pushes them;
 * their next start is a new attempt, and the lost attempt's reports are refused), the others end NODE_FAIL. A job
 * whose cancel was asked for ends CANCELLED rather than run again.
 * Answers the nodes marked DOWN and how many jobs went back to PENDING.
 */
export async function settleLostNodes(db: Database, silenceMs: number): Promise<{ nodes: string[]; requeued: number }> {
  return db.transaction(async (tx) => {
    const down = await queryRows(
      tx,
      sql`UPDATE nodes SET state = 'DOWN'
          WHERE state <> 'DOWN' AND last_heartbeat < now() - ${silenceMs} * interval '1 millisecond'
          RETURNING name`,
    );
    const nodes = down.map((row) => String(row.name));
    const lost = sql`(SELECT name FROM nodes WHERE state = 'DOWN')`;

    const requeued = await queryRows(
      tx,
      sql`
        WITH moved AS (
          UPDATE jobs SET state = 'PENDING', reason = 'Priority', enqueued = false, node_name = NULL,
                          start_time = NULL, cpu_ids = NULL, pid = NULL
          WHERE node_name IN ${lost} AND state = 'RUNNING' AND requeue AND cancel_requested_at IS NULL
          RETURNING id, attempt
        ), event AS (
          INSERT INTO job_events (job_id, attempt, from_state, to_state, actor, reason)
          SELECT id, attempt, 'RUNNING', 'PENDING', 'reconciler', 'node lost: requeued' FROM moved
        )
        SELECT * FROM moved
      `,
    );
    await tx.execute(sql`
      WITH ended AS (
        UPDATE jobs SET
          state = CASE WHEN cancel_requested_at IS NULL THEN 'NODE_FAIL' ELSE 'CANCELLED' END,
          end_time = now(),
          error_msg = 'node ' || node_name || ' stopped answering'
        WHERE node_name IN ${lost} AND state = 'RUNNING'
        RETURNING id, attempt, state, node_name
      )
      INSERT INTO job_events (job_id, attempt, from_state, to_state, actor, reason)
      SELECT id, attempt, 'RUNNING', state, 'reconciler', 'node ' || node_name || ' lost' FROM ended
    `);
    return { nodes, requeued: requeued.length };
  });
}
