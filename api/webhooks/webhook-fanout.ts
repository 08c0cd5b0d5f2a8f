/**
 * The fan-out: each subscription's new events become its deliveries. Per subscription, one transaction reads the
 * stream after its cursor (read-events.ts: horizon-safe, so nothing can later commit behind the cursor), writes a
 * delivery per event and moves the cursor: an event is queued once or, if the transaction fails, read again; none is
 * skipped. The subscription's row lock (SKIP LOCKED) lets several API processes fan out at once without doubling.
 */
import { sql } from 'drizzle-orm';
import type { Database } from '../../shared/db/database.js';
import { queryRows } from '../../shared/db/query-rows.js';
import { CursorExpired } from '../http/errors.js';
import { formatPosition, type EventPosition } from '../events/event-position.js';
import { currentPosition, readEvents } from '../events/read-events.js';
import { streamEventView, type JobStreamEvent } from '../events/stream-event.js';
import { statesOf } from './webhook-store.js';

/** The body a receiver is posted: `{id, type, created_at, data}`, data as GET /v1/events sends the event. */
export function deliveryBody(event: JobStreamEvent): { type: string; body: string } {
  const type = `job.${event.change}`;
  const body = JSON.stringify({
    id: formatPosition(event.position),
    type,
    created_at: event.at.toISOString(),
    data: streamEventView(event),
  });
  return { type, body };
}

/**
 * Queues every subscription's new events, at most `limit` per subscription; answers how many were queued. A cursor
 * behind the stream's retention (CursorExpired) starts again from now: those events are gone for every reader.
 */
export async function fanOutWebhooks(db: Database, now: Date, limit: number): Promise<number> {
  const ids = await queryRows(db, sql`SELECT id FROM webhooks ORDER BY id`);
  let queued = 0;
  for (const { id } of ids) {
    queued += await db.transaction(async (tx) => {
      const [row] = await queryRows(
        tx,
        sql`SELECT account, states, cursor_tx::text AS cursor_tx, cursor_id::text AS cursor_id
            FROM webhooks WHERE id = ${Number(id)} FOR UPDATE SKIP LOCKED`,
      );
      if (!row) return 0;
      const cursor: EventPosition = { tx: BigInt(row.cursor_tx as string), id: BigInt(row.cursor_id as string) };
      const states = row.states === null ? undefined : statesOf(row.states);
      let read;
      try {
        read = await readEvents(tx, cursor, { kinds: ['job'], account: row.account as string, states }, limit);
      } catch (error) {
        if (!(error instanceof CursorExpired)) throw error;
        read = { events: [], through: await currentPosition(tx) };
      }
      for (const event of read.events as JobStreamEvent[]) {
        const { type, body } = deliveryBody(event);
        await tx.execute(
          sql`INSERT INTO webhook_deliveries (webhook_id, event_tx, event_seq, job_id, type, body, next_attempt_at)
              VALUES (${Number(id)}, ${String(event.position.tx)}::xid8, ${String(event.position.id)}::bigint,
                      ${event.jobId}, ${type}, ${body}, ${now.toISOString()})
              ON CONFLICT DO NOTHING`,
        );
      }
      await tx.execute(
        sql`UPDATE webhooks SET cursor_tx = ${String(read.through.tx)}::xid8, cursor_id = ${String(read.through.id)}::bigint
            WHERE id = ${Number(id)}`,
      );
      return read.events.length;
    });
  }
  return queued;
}
