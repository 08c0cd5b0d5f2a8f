/**
 * Webhook subscriptions and their delivery log (migration 0030). A subscription starts at the stream's current
 * position: it is sent what happens after it was made, never the window's past.
 */
import { sql } from 'drizzle-orm';
import type { Database } from '../../shared/db/database.js';
import { wordArray } from '../../shared/db/pg-array.js';
import { queryRows } from '../../shared/db/query-rows.js';
import { currentPosition } from '../events/read-events.js';

export interface Webhook {
  id: number;
  account: string;
  url: string;
  /** Job states whose events are sent (to_state); null: every job event of the account. */
  states: string[] | null;
  secret: string;
  createdAt: Date;
}

export interface WebhookDelivery {
  id: number;
  webhookId: number;
  /** The event's id (its stream position, as GET /v1/events names it). */
  eventId: string;
  jobId: number;
  type: string;
  attempts: number;
  nextAttemptAt: Date | null;
  lastAttemptAt: Date | null;
  lastStatus: number | null;
  lastError: string | null;
  deliveredAt: Date | null;
  failedAt: Date | null;
  createdAt: Date;
}

export async function createWebhook(
  db: Database,
  fields: { account: string; url: string; states: readonly string[] | null; secret: string },
): Promise<Webhook> {
  const start = await currentPosition(db);
  const [row] = await queryRows(
    db,
    sql`INSERT INTO webhooks (account, url, states, secret, cursor_tx, cursor_id)
        VALUES (${fields.account}, ${fields.url}, ${fields.states ? wordArray(fields.states) : null}, ${fields.secret},
                ${String(start.tx)}::xid8, ${String(start.id)}::bigint)
        RETURNING *`,
  );
  return webhookOf(row!);
}

/** Every subscription, or one account's; by id. */
export async function listWebhooks(db: Database, account: string | undefined): Promise<Webhook[]> {
  const rows = await queryRows(
    db,
    sql`SELECT * FROM webhooks WHERE ${account === undefined ? sql`true` : sql`account = ${account}`} ORDER BY id`,
  );
  return rows.map(webhookOf);
}

export async function getWebhook(db: Database, id: number): Promise<Webhook | undefined> {
  const [row] = await queryRows(db, sql`SELECT * FROM webhooks WHERE id = ${id}`);
  return row && webhookOf(row);
}

/** Sets what is given; a field left out keeps its value (`states: null` sends every job event again). */
export async function updateWebhook(
  db: Database,
  id: number,
  fields: { url?: string; states?: readonly string[] | null; secret?: string },
): Promise<Webhook | undefined> {
  const [row] = await queryRows(
    db,
    sql`UPDATE webhooks SET
          url = ${fields.url === undefined ? sql`url` : sql`${fields.url}`},
          states = ${fields.states === undefined ? sql`states` : fields.states === null ? sql`NULL` : wordArray(fields.states)},
          secret = ${fields.secret === undefined ? sql`secret` : sql`${fields.secret}`}
        WHERE id = ${id} RETURNING *`,
  );
  return row && webhookOf(row);
}

/** Deletes the subscription and its log; false when there was none. */
export async function deleteWebhook(db: Database, id: number): Promise<boolean> {
  return (await queryRows(db, sql`DELETE FROM webhooks WHERE id = ${id} RETURNING id`)).length > 0;
}

/** The subscription's deliveries, newest first, at most `limit`, before delivery id `before` when given. */
export async function listDeliveries(
  db: Database,
  webhookId: number,
  limit: number,
  before: number | undefined,
): Promise<WebhookDelivery[]> {
  const rows = await queryRows(
    db,
    sql`SELECT * FROM webhook_deliveries
        WHERE webhook_id = ${webhookId} ${before === undefined ? sql`` : sql`AND id < ${before}`}
        ORDER BY id DESC LIMIT ${limit}`,
  );
  return rows.map(deliveryOf);
}

/**
 * Sends the delivery again, as soon as it is the oldest open one of its job: a failed one gets 24 hours of retries
 * again, a delivered one is sent once more (with the same event id). Undefined when the subscription has no such one.
 */
export async function redeliver(
  db: Database,
  webhookId: number,
  deliveryId: number,
  now: Date,
): Promise<WebhookDelivery | undefined> {
  const [row] = await queryRows(
    db,
    sql`UPDATE webhook_deliveries
        SET delivered_at = NULL, failed_at = NULL, first_attempt_at = NULL, next_attempt_at = ${now.toISOString()}
        WHERE id = ${deliveryId} AND webhook_id = ${webhookId} RETURNING *`,
  );
  return row && deliveryOf(row);
}

function webhookOf(row: Record<string, unknown>): Webhook {
  return {
    id: Number(row.id),
    account: row.account as string,
    url: row.url as string,
    states: row.states === null ? null : statesOf(row.states),
    secret: row.secret as string,
    createdAt: new Date(row.created_at as string),
  };
}

function deliveryOf(row: Record<string, unknown>): WebhookDelivery {
  const open = row.delivered_at === null && row.failed_at === null;
  return {
    id: Number(row.id),
    webhookId: Number(row.webhook_id),
    eventId: `${row.event_tx as string}-${row.event_seq as string}`,
    jobId: Number(row.job_id),
    type: row.type as string,
    attempts: Number(row.attempts),
    nextAttemptAt: open ? dateOf(row.next_attempt_at) : null,
    lastAttemptAt: dateOf(row.last_attempt_at),
    lastStatus: row.last_status === null ? null : Number(row.last_status),
    lastError: row.last_error as string | null,
    deliveredAt: dateOf(row.delivered_at),
    failedAt: dateOf(row.failed_at),
    createdAt: new Date(row.created_at as string),
  };
}

const dateOf = (value: unknown): Date | null => (value === null ? null : new Date(value as string));

/** A states column: drivers answer text[] as an array or as its literal; job states have no commas or quotes. */
export const statesOf = (value: unknown): string[] =>
  Array.isArray(value) ? (value as string[]) : String(value).slice(1, -1).split(',').filter(Boolean);
