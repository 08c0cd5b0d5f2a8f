/**
 * A node settled as lost that comes back reports what really happened to its runs that ended meanwhile (stopped at
 * its lease's end, or finished on their own). The job's state was settled already (requeued or NODE_FAIL) and stays:
 * the report is kept as a note in the job's events (from and to its current state, by the node, naming the attempt),
 * never as a new state change of an ended job.
 */
import { sql } from 'drizzle-orm';
import type { Database } from '../../shared/db/database.js';
import { queryRows } from '../../shared/db/query-rows.js';
import type { FinishedEvent } from '../../shared/protocol/events.js';
import { LOST_NODE_ACTOR } from '../nodes/settle-lost-nodes.js';

/** The note's reason: `attempt 1 really ended COMPLETED (exit status 0), after node n1 was settled as lost`. */
export function lateReportReason(node: string, event: FinishedEvent): string {
  const how =
    event.exit_signal !== null
      ? `signal ${event.exit_signal}`
      : event.exit_status !== null
        ? `exit status ${event.exit_status}`
        : 'no exit status';
  const why = event.error_msg ? `: ${event.error_msg}` : '';
  return `attempt ${event.attempt} really ended ${event.state} (${how}${why}), after node ${node} was settled as lost`;
}

/**
 * Keeps each refused end report of a run that the reconciler settled as lost on this `node` in its job's events;
 * once (a retried report finds its note). Reports of runs not settled so are left out: they are another node's or
 * attempt's (fencing), not news. Answers how many notes were written.
 */
export async function keepLateReports(
  db: Database,
  node: string,
  events: FinishedEvent[],
  actor: string,
): Promise<number> {
  if (events.length === 0) return 0;
  const input = events.map((event) => ({
    id: Number(event.job_id),
    attempt: event.attempt,
    reason: lateReportReason(node, event),
  }));
  const rows = await queryRows(
    db,
    sql`
    WITH input AS (
      SELECT * FROM jsonb_to_recordset(${JSON.stringify(input)}::jsonb) AS input(id bigint, attempt integer, reason text)
    )
    INSERT INTO job_events (job_id, attempt, from_state, to_state, actor, reason)
    SELECT j.id, input.attempt, j.state, j.state, ${actor}, input.reason
    FROM input JOIN jobs j ON j.id = input.id
    WHERE EXISTS (SELECT 1 FROM job_events e
                  WHERE e.job_id = input.id AND e.attempt = input.attempt AND e.actor = ${LOST_NODE_ACTOR}
                    AND e.from_state = 'RUNNING' AND starts_with(e.reason, ${`node ${node} lost`}))
      AND NOT EXISTS (SELECT 1 FROM job_events e
                      WHERE e.job_id = input.id AND e.attempt = input.attempt AND e.actor = ${actor}
                        AND e.reason = input.reason)
    RETURNING job_id
  `,
  );
  return rows.length;
}
