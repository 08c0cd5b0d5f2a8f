import { sql } from 'drizzle-orm';
import type { Database } from '../../shared/db/database.js';
import { queryRows } from '../../shared/db/query-rows.js';

/** Endings a node reports; NODE_FAIL is the API's own verdict, never a node's. */
export const NODE_ENDINGS = ['COMPLETED', 'FAILED', 'CANCELLED', 'TIMEOUT', 'OUT_OF_MEMORY'] as const;
export type NodeEnding = (typeof NODE_ENDINGS)[number];

export type NodeEvent =
  | { kind: 'started'; jobId: number; attempt: number; pid: number; cpuIds: number[] }
  | {
      kind: 'finished';
      jobId: number;
      attempt: number;
      state: NodeEnding;
      exitStatus: number | null;
      exitSignal: number | null;
      errorMsg: string | null;
    };

/**
 * What became of a reported event. Every answer is an acknowledgement (the node's outbox forgets the event):
 * applied now; applied before (a retry); or refused for good, because it is about another attempt or another node
 * (fencing: a job requeued after its node was lost runs again as a new attempt, and the old one's reports change
 * nothing).
 */
export type EventResult = 'applied' | 'duplicate' | 'refused';

/**
 * Applies one node event with one conditional write, guarded by node, attempt and state, and records it in the
 * job's history. A retried event finds its own effect and is a duplicate.
 */
export async function applyNodeEvent(
  db: Database,
  node: string,
  event: NodeEvent,
  actor: string,
): Promise<EventResult> {
  const [row] = await queryRows(
    db,
    event.kind === 'started' ? started(node, event, actor) : finished(node, event, actor),
  );
  if (!row) return 'refused';
  if (row.applied === true) return 'applied';
  const sameRun = row.node_name === node && Number(row.attempt) === event.attempt;
  if (!sameRun) return 'refused';
  // A start reported after its own ending (the outbox sent them out of order) is a duplicate too.
  if (event.kind === 'started') return row.pid === null || row.pid === event.pid ? 'duplicate' : 'refused';
  return row.state === event.state ? 'duplicate' : 'refused';
}

function started(node: string, event: Extract<NodeEvent, { kind: 'started' }>, actor: string) {
  return sql`
    WITH current AS (
      SELECT id, state, node_name, attempt, pid FROM jobs WHERE id = ${event.jobId} FOR UPDATE
    ), marked AS (
      UPDATE jobs SET pid = ${event.pid}, cpu_ids = ${`{${event.cpuIds.join(',')}}`}::integer[]
      FROM current
      WHERE jobs.id = current.id AND current.state = 'RUNNING' AND current.node_name = ${node}
        AND current.attempt = ${event.attempt} AND current.pid IS NULL
      RETURNING jobs.id, jobs.attempt
    ), event AS (
      INSERT INTO job_events (job_id, attempt, from_state, to_state, actor, reason)
      SELECT id, attempt, 'RUNNING', 'RUNNING', ${actor}, ${`process ${event.pid} started on cores ${event.cpuIds.join(',')}`}
      FROM marked
    )
    SELECT current.*, EXISTS (SELECT 1 FROM marked) AS applied FROM current
  `;
}

function finished(node: string, event: Extract<NodeEvent, { kind: 'finished' }>, actor: string) {
  return sql`
    WITH current AS (
      SELECT id, state, node_name, attempt, pid FROM jobs WHERE id = ${event.jobId} FOR UPDATE
    ), ended AS (
      UPDATE jobs SET state = ${event.state}, end_time = now(), exit_status = ${event.exitStatus},
                      exit_signal = ${event.exitSignal}, error_msg = ${event.errorMsg}, reason = NULL
      FROM current
      WHERE jobs.id = current.id AND current.state = 'RUNNING' AND current.node_name = ${node}
        AND current.attempt = ${event.attempt}
      RETURNING jobs.id, jobs.attempt
    ), event AS (
      INSERT INTO job_events (job_id, attempt, from_state, to_state, actor, reason)
      SELECT id, attempt, 'RUNNING', ${event.state}, ${actor}, ${event.errorMsg ?? 'finished'} FROM ended
    )
    SELECT current.*, EXISTS (SELECT 1 FROM ended) AS applied FROM current
  `;
}
