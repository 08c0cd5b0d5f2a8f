/**
 * The sender: posts due deliveries, at least once and in order per job. It claims deliveries in one statement (FOR
 * UPDATE SKIP LOCKED, so several API processes share the work), only the oldest open one of each (subscription, job):
 * a job's later event waits until its earlier one is delivered or has failed for good. A claim moves the delivery's
 * next attempt past the request's timeout (a lease): a process that dies mid-request leaves it to be sent again.
 *
 * 2xx is delivered. Anything else (a status, a refused or unreachable target, a timeout) is retried after a growing
 * pause (shared/backoff.ts, 30 s doubling to at most 1 h, less up to a quarter at random so receivers that came back
 * are not hit all at once) until 24 hours have passed since the first attempt; then the delivery has failed, and the
 * job's next events go on. Redirects are not followed: their target was never checked against the allow-list.
 */
import { sql } from 'drizzle-orm';
import { backoffDelay, type BackoffSchedule } from '../../shared/backoff.js';
import type { Database } from '../../shared/db/database.js';
import { queryRows } from '../../shared/db/query-rows.js';
import { EVENT_ID_HEADER, SIGNATURE_HEADER, signatureHeader } from './webhook-signature.js';
import type { ResolveHost, WebhookAllowList } from './webhook-targets.js';

export interface SenderOptions {
  allow: WebhookAllowList;
  /** The host's name resolution (the Node host's); none on Workers. */
  resolve: ResolveHost | undefined;
  now: () => Date;
  /** In [0, 1): the jitter. */
  random: () => number;
  timeoutMs: number;
  /** Deliveries claimed at once. */
  batch: number;
  retry: BackoffSchedule;
  /** How long after the first attempt a delivery is given up. */
  giveUpMs: number;
}

export const DEFAULT_SENDER: Omit<SenderOptions, 'allow' | 'resolve'> = {
  now: () => new Date(),
  random: Math.random,
  timeoutMs: 10_000,
  batch: 32,
  retry: { minMs: 30_000, maxMs: 3_600_000 },
  giveUpMs: 24 * 3_600_000,
};

// Beyond the request's own timeout: a claim outlives its request unless its process died.
const LEASE_MARGIN_MS = 60_000;
const MAX_ERROR_CHARS = 500;

interface Claimed {
  id: number;
  url: string;
  secret: string;
  body: string;
  eventId: string;
  attempts: number;
  firstAttemptAt: Date;
}

/** Sends one batch of due deliveries; answers how many were attempted (a full batch: call again). */
export async function sendDueWebhooks(db: Database, options: SenderOptions): Promise<number> {
  const now = options.now();
  const claimed = await claim(db, now, options);
  await Promise.all(claimed.map((delivery) => attempt(db, delivery, options)));
  return claimed.length;
}

async function claim(db: Database, now: Date, options: SenderOptions): Promise<Claimed[]> {
  const lease = new Date(now.getTime() + options.timeoutMs + LEASE_MARGIN_MS).toISOString();
  const rows = await queryRows(
    db,
    sql`UPDATE webhook_deliveries d
        SET next_attempt_at = ${lease}, attempts = d.attempts + 1, last_attempt_at = ${now.toISOString()},
            first_attempt_at = coalesce(d.first_attempt_at, ${now.toISOString()})
        FROM webhooks w
        WHERE w.id = d.webhook_id AND d.id IN (
          SELECT o.id FROM webhook_deliveries o
          WHERE o.delivered_at IS NULL AND o.failed_at IS NULL AND o.next_attempt_at <= ${now.toISOString()}
            AND NOT EXISTS (
              SELECT 1 FROM webhook_deliveries p
              WHERE p.webhook_id = o.webhook_id AND p.job_id = o.job_id AND p.id < o.id
                AND p.delivered_at IS NULL AND p.failed_at IS NULL)
          ORDER BY o.next_attempt_at, o.id
          LIMIT ${options.batch}
          FOR UPDATE OF o SKIP LOCKED)
        RETURNING d.id, w.url, w.secret, d.body, d.event_tx::text AS event_tx, d.event_seq::text AS event_seq,
                  d.attempts, d.first_attempt_at`,
  );
  return rows.map((row) => ({
    id: Number(row.id),
    url: row.url as string,
    secret: row.secret as string,
    body: row.body as string,
    eventId: `${row.event_tx as string}-${row.event_seq as string}`,
    attempts: Number(row.attempts),
    firstAttemptAt: new Date(row.first_attempt_at as string),
  }));
}

async function attempt(db: Database, delivery: Claimed, options: SenderOptions): Promise<void> {
  const outcome = await post(delivery, options);
  const now = options.now();
  if (outcome.status !== null && outcome.status >= 200 && outcome.status < 300) {
    await db.execute(
      sql`UPDATE webhook_deliveries
          SET delivered_at = ${now.toISOString()}, last_status = ${outcome.status}, last_error = NULL
          WHERE id = ${delivery.id}`,
    );
    return;
  }
  const pause = backoffDelay(delivery.attempts - 1, options.retry) * (1 - options.random() / 4);
  const givenUp = now.getTime() - delivery.firstAttemptAt.getTime() >= options.giveUpMs;
  await db.execute(
    sql`UPDATE webhook_deliveries
        SET last_status = ${outcome.status}, last_error = ${outcome.error.slice(0, MAX_ERROR_CHARS)},
            next_attempt_at = ${new Date(now.getTime() + pause).toISOString()},
            failed_at = ${givenUp ? now.toISOString() : null}
        WHERE id = ${delivery.id}`,
  );
}

async function post(
  delivery: Claimed,
  options: SenderOptions,
): Promise<{ status: number; error: string } | { status: null; error: string }> {
  // Checked at every attempt: a name may resolve elsewhere now than when the subscription was made.
  const refusal = await options.allow.refusal(new URL(delivery.url), options.resolve);
  if (refusal) return { status: null, error: `target refused by the allow-list (CONDUCTOR_WEBHOOK_ALLOW): ${refusal}` };
  try {
    const response = await fetch(delivery.url, {
      method: 'POST',
      redirect: 'manual',
      signal: AbortSignal.timeout(options.timeoutMs),
      headers: {
        'Content-Type': 'application/json',
        'User-Agent': 'SCNS-Conductor-Webhooks',
        [SIGNATURE_HEADER]: await signatureHeader(delivery.secret, delivery.body, options.now()),
        [EVENT_ID_HEADER]: delivery.eventId,
      },
      body: delivery.body,
    });
    await response.body?.cancel();
    return { status: response.status, error: response.ok ? '' : `the receiver answered ${response.status}` };
  } catch (error) {
    const cause = (error as Error & { cause?: Error }).cause;
    return { status: null, error: `${(error as Error).message}${cause ? `: ${cause.message}` : ''}` };
  }
}
