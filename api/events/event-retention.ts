/**
 * The event stream's retention (CONDUCTOR_EVENT_RETENTION_DAYS, CONDUCTOR_EVENT_MAX_ROWS): the reconciler deletes, a
 * bounded batch per run from the front of the stream (its oldest ids: O(batch) however many are kept), the events
 * older than the days and those past the row bound,
 * and records the greatest position it deleted (stream_events_dropped, migration 0028). A reader resuming from before
 * that position missed events and is told so (read-events.ts: 410 cursor_expired) rather than given a stream with a
 * hole. The row bound counts by id: ids are unique, so keeping only ids above the newest id less the bound keeps at
 * most that many rows.
 */
import { sql } from 'drizzle-orm';
import type { Retention } from '../../shared/config/retention-settings.js';
import type { Database } from '../../shared/db/database.js';
import { queryRows } from '../../shared/db/query-rows.js';

/** Deletes up to `limit` events past the retention; answers how many. Two reconcilers at once delete nothing twice. */
export async function pruneEvents(
  db: Database,
  retention: Pick<Retention, 'eventMs' | 'eventMaxRows'>,
  now: Date,
  limit: number,
): Promise<number> {
  const cutoff = new Date(now.getTime() - retention.eventMs);
  const rows = await queryRows(
    db,
    sql`
    WITH front AS (
      SELECT tx, id, at FROM stream_events ORDER BY id LIMIT ${limit}
    ), doomed AS (
      SELECT f.tx, f.id FROM front f
      WHERE f.at < ${cutoff.toISOString()}::timestamptz
         OR f.id <= (SELECT max(id) FROM stream_events) - ${retention.eventMaxRows}
    ), deleted AS (
      DELETE FROM stream_events e USING doomed d WHERE e.tx = d.tx AND e.id = d.id RETURNING e.tx, e.id
    ), last AS (
      SELECT tx, id FROM deleted ORDER BY tx DESC, id DESC LIMIT 1
    ), marked AS (
      INSERT INTO stream_events_dropped (one, tx, id) SELECT true, tx, id FROM last
      ON CONFLICT (one) DO UPDATE SET tx = excluded.tx, id = excluded.id
        WHERE (stream_events_dropped.tx, stream_events_dropped.id) < (excluded.tx, excluded.id)
    )
    SELECT count(*)::int AS n FROM deleted
  `,
  );
  return Number(rows[0]!.n);
}
