/**
 * One event of the stream (migration 0028's stream_events): a job's transition or change, or a node's state change,
 * at its position. `view` is what GET /v1/events sends as the SSE data (and a webhook would post): snake_case JSON.
 */
import type { EventPosition } from './event-position.js';

interface EventBase {
  position: EventPosition;
  at: Date;
  fromState: string | null;
  toState: string;
  reason: string | null;
}

export interface JobStreamEvent extends EventBase {
  kind: 'job';
  jobId: number;
  attempt: number;
  account: string;
  partition: string;
  user: string | null;
  name: string;
  /** job_events.kind: transition, hold, release, update. */
  change: string;
  actor: string;
  changes: Record<string, { from: unknown; to: unknown }> | null;
}

export interface NodeStreamEvent extends EventBase {
  kind: 'node';
  node: string;
  partitions: string[];
}

export type StreamEvent = JobStreamEvent | NodeStreamEvent;

/** A row of stream_events as read-events.ts selects it (ids and tx as text: they may pass 2^53). */
export function streamEventOf(row: Record<string, unknown>): StreamEvent {
  const base: EventBase = {
    position: { tx: BigInt(row.tx as string), id: BigInt(row.id as string) },
    at: new Date(row.at as string | Date),
    fromState: row.from_state as string | null,
    toState: row.to_state as string,
    reason: row.reason as string | null,
  };
  if (row.kind === 'node') {
    return { ...base, kind: 'node', node: row.node as string, partitions: pgTextArray(row.partitions) };
  }
  return {
    ...base,
    kind: 'job',
    jobId: Number(row.job_id),
    attempt: Number(row.attempt),
    account: row.account as string,
    partition: row.partition as string,
    user: row.unix_user as string | null,
    name: row.job_name as string,
    change: row.change as string,
    actor: row.actor as string,
    changes: (typeof row.changes === 'string' ? JSON.parse(row.changes) : row.changes) as JobStreamEvent['changes'],
  };
}

/** The event as the stream sends it. */
export function streamEventView(event: StreamEvent): Record<string, unknown> {
  const common = {
    kind: event.kind,
    at: event.at.toISOString(),
    from_state: event.fromState,
    to_state: event.toState,
    reason: event.reason,
  };
  if (event.kind === 'node') return { ...common, node: event.node, partitions: event.partitions };
  return {
    ...common,
    job_id: String(event.jobId),
    attempt: event.attempt,
    account: event.account,
    partition: event.partition,
    user: event.user,
    name: event.name,
    change: event.change,
    actor: event.actor,
    changes: event.changes,
  };
}

// Drivers answer text[] as an array, or (Neon over HTTP, some pg type settings) as its literal; names have no commas.
function pgTextArray(value: unknown): string[] {
  if (Array.isArray(value)) return value as string[];
  const text = String(value ?? '{}');
  return text === '{}'
    ? []
    : text
        .slice(1, -1)
        .split(',')
        .map((item) => item.replace(/^"|"$/g, ''));
}
