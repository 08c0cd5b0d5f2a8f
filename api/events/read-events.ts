/**
 * Reading the event stream after a position, horizon-safe (migration 0028): only events whose transaction is below
 * pg_snapshot_xmin(pg_current_snapshot()) are answered. Every transaction below that horizon has ended, and any that
 * can still commit an event has a tx at or above it, so once a reader has passed a position no event can later appear
 * before it: resuming from the last position delivered misses nothing and repeats nothing, however writers interleave.
 * The price: the horizon is the whole cluster's, so a long transaction anywhere on the server (a migration, a stuck
 * session, a pg_dump) holds delivery back until it ends. It never loses events.
 */
import { sql } from 'drizzle-orm';
import type { Database } from '../../shared/db/database.js';
import { queryRows } from '../../shared/db/query-rows.js';
import { CursorExpired } from '../http/errors.js';
import { filterSql, type EventFilter } from './event-filter.js';
import { comparePositions, formatPosition, type EventPosition } from './event-position.js';
import { streamEventOf, type StreamEvent } from './stream-event.js';

export interface EventRead {
  /** In stream order, each after the position asked for. */
  events: StreamEvent[];
  /**
   * Every event the filter matches up to here has been answered: the next read starts after it. The horizon itself
   * (its id 0) when the read reached it; the last event's position when the limit cut the read short.
   */
  through: EventPosition;
  /** Events have committed at or above the horizon: a read soon will find more without any new write. */
  pending: boolean;
}

/**
 * The events after `after` that `filter` matches, at most `limit`, oldest first.
 * @throws CursorExpired when retention deleted events after `after` (event-retention.ts)
 */
export async function readEvents(
  db: Database,
  after: EventPosition,
  filter: EventFilter,
  limit: number,
): Promise<EventRead> {
  const rows = await queryRows(
    db,
    sql`
    WITH horizon AS (SELECT pg_snapshot_xmin(pg_current_snapshot()) AS tx)
    SELECT h.tx::text AS horizon, d.tx::text AS dropped_tx, d.id::text AS dropped_id,
           EXISTS (SELECT 1 FROM stream_events p WHERE p.tx >= h.tx) AS pending,
           e.tx::text AS tx, e.id::text AS id, e.kind, e.at, e.from_state, e.to_state, e.reason, e.job_id, e.attempt,
           e.account, e.partition, e.unix_user, e.job_name, e.change, e.actor, e.changes, e.node, e.partitions
    FROM horizon h
    LEFT JOIN stream_events_dropped d ON true
    LEFT JOIN LATERAL (
      SELECT * FROM stream_events e
      WHERE (e.tx, e.id) > (${String(after.tx)}::xid8, ${String(after.id)}::bigint) AND e.tx < h.tx
        AND ${filterSql(filter)}
      ORDER BY e.tx, e.id
      LIMIT ${limit}
    ) e ON true
    ORDER BY e.tx, e.id
  `,
  );
  const first = rows[0]!;
  if (first.dropped_tx !== null && first.dropped_tx !== undefined) {
    const dropped = { tx: BigInt(first.dropped_tx as string), id: BigInt(first.dropped_id as string) };
    if (comparePositions(after, dropped) < 0) throw new CursorExpired(formatPosition(after));
  }
  const events = rows.filter((row) => row.tx !== null).map(streamEventOf);
  const horizon: EventPosition = { tx: BigInt(first.horizon as string), id: 0n };
  const through =
    events.length === limit ? events.at(-1)!.position : comparePositions(horizon, after) > 0 ? horizon : after;
  return { events, through, pending: first.pending === true || first.pending === 't' };
}

/** The position a reader that starts now starts after: every event not yet committed comes after it. */
export async function currentPosition(db: Database): Promise<EventPosition> {
  const [row] = await queryRows(db, sql`SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS horizon`);
  return { tx: BigInt(row!.horizon as string), id: 0n };
}
