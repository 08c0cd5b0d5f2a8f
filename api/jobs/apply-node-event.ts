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
 * Applies a node's batch of events with one conditional write per kind, guarded by node, attempt and state, each
 * recorded in its job's history; answers each event's result, in order. Starts go first: a job's start always comes
 * before its end in a node's outbox, and the order between different jobs does not matter. A retried event finds its
 * own effect and is a duplicate.
 */
export async function applyNodeEvents(
  db: Database,
  node: string,
  events: NodeEvent[],
  actor: string,
): Promise<EventResult[]> {
  const results: EventResult[] = new Array(events.length);
  const numbered = events.map((event, n) => ({ ...event, n }));
  const starts = numbered.filter((event) => event.kind === 'started');
  const ends = numbered.filter((event) => event.kind === 'finished');
  if (starts.length) {
    for (const row of await queryRows(db, started(node, starts, actor))) {
      const event = starts.find((candidate) => candidate.n === Number(row.n))!;
      results[event.n] = resultOf(row, node, event);
    }
  }
  if (ends.length) {
    for (const row of await queryRows(db, finished(node, ends, actor))) {
      const event = ends.find((candidate) => candidate.n === Number(row.n))!;
      results[event.n] = resultOf(row, node, event);
    }
  }
  return results;
}

/** An event's result from its job as the statement found it (before its own write) and whether it applied. */
function resultOf(row: Record<string, unknown>, node: string, event: NodeEvent): EventResult {
  if (row.id === null) return 'refused';
  if (row.applied === true) return 'applied';
  const sameRun = row.node_name === node && Number(row.attempt) === event.attempt;
  if (!sameRun) return 'refused';
  // A start reported after its own ending (the outbox sent them out of order) is a duplicate too.
  if (event.kind === 'started') return row.pid === null || row.pid === event.pid ? 'duplicate' : 'refused';
  return row.state === event.state ? 'duplicate' : 'refused';
}

type Numbered<K extends NodeEvent['kind']> = Extract<NodeEvent, { kind: K }> & { n: number };

// Each batch travels as one JSON parameter, read back as rows: one statement whatever the batch's size.
function started(node: string, events: Numbered<'started'>[], actor: string) {
  const input = events.map((event) => ({
    n: event.n,
    id: event.jobId,
    attempt: event.attempt,
    pid: event.pid,
    cpu_ids: event.cpuIds,
    reason: `process ${event.pid} started on cores ${event.cpuIds.join(',')}`,
  }));
  return sql`
    WITH input AS (
      SELECT * FROM jsonb_to_recordset(${JSON.stringify(input)}::jsonb)
        AS input(n integer, id bigint, attempt integer, pid integer, cpu_ids integer[], reason text)
    ), current AS (
      SELECT id, state, node_name, attempt, pid FROM jobs WHERE id IN (SELECT id FROM input) ORDER BY id FOR UPDATE
    ), marked AS (
      UPDATE jobs SET pid = input.pid, cpu_ids = input.cpu_ids
      FROM input JOIN current ON current.id = input.id
      WHERE jobs.id = input.id AND current.state = 'RUNNING' AND current.node_name = ${node}
        AND current.attempt = input.attempt AND current.pid IS NULL
      RETURNING jobs.id, jobs.attempt, input.reason
    ), event AS (
      INSERT INTO job_events (job_id, attempt, from_state, to_state, actor, reason)
      SELECT id, attempt, 'RUNNING', 'RUNNING', ${actor}, reason FROM marked
    )
    SELECT input.n, current.*, EXISTS (SELECT 1 FROM marked WHERE marked.id = input.id) AS applied
    FROM input LEFT JOIN current ON current.id = input.id
  `;
}

function finished(node: string, events: Numbered<'finished'>[], actor: string) {
  const input = events.map((event) => ({
    n: event.n,
    id: event.jobId,
    attempt: event.attempt,
    state: event.state,
    exit_status: event.exitStatus,
    exit_signal: event.exitSignal,
    error_msg: event.errorMsg,
  }));
  return sql`
    WITH input AS (
      SELECT * FROM jsonb_to_recordset(${JSON.stringify(input)}::jsonb)
        AS input(n integer, id bigint, attempt integer, state text, exit_status integer, exit_signal integer,
                 error_msg text)
    ), current AS (
      SELECT id, state, node_name, attempt, pid FROM jobs WHERE id IN (SELECT id FROM input) ORDER BY id FOR UPDATE
    ), ended AS (
      UPDATE jobs SET state = input.state, end_time = now(), exit_status = input.exit_status,
                      exit_signal = input.exit_signal, error_msg = input.error_msg, reason = NULL
      FROM input JOIN current ON current.id = input.id
      WHERE jobs.id = input.id AND current.state = 'RUNNING' AND current.node_name = ${node}
        AND current.attempt = input.attempt
      RETURNING jobs.id, jobs.attempt, input.state, input.error_msg
    ), event AS (
      INSERT INTO job_events (job_id, attempt, from_state, to_state, actor, reason)
      SELECT id, attempt, 'RUNNING', state, ${actor}, coalesce(error_msg, 'finished') FROM ended
    )
    SELECT input.n, current.*, EXISTS (SELECT 1 FROM ended WHERE ended.id = input.id) AS applied
    FROM input LEFT JOIN current ON current.id = input.id
  `;
}
