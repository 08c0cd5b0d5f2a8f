/**
 * Idempotent submit (issue 13, item 2; docs/architecture.md, invariant 4): a submit sent with a key makes its job at
 * most once, and every retry of it within 24 h is answered as the first submit was. The key's row is written in the
 * same transaction as the job, so a submit cut off after its commit has left its key behind, and its retry finds the
 * job instead of making another. Of submits racing with one key, the primary key (scope, key) lets one commit; the
 * others wait on its row, then read it and answer its job.
 */
import { and, eq, gt, lt, sql } from 'drizzle-orm';
import type { Database } from '../../shared/db/database.js';
import { idempotencyKeys } from '../../shared/db/schema.js';
import type { SubmitReading, SubmitRequest } from '../../shared/job/submit-request.js';
import type { Services } from '../app-env.js';
import { actorName, type Principal } from '../auth/principal.js';
import { IdempotencyKeyReused, RetryableConflict } from '../http/errors.js';
import { insertSubmittedJob } from './dependencies/insert-dependent-job.js';
import type { JobSummaryRow } from './job-summary.js';
import { admissibleSpec, afterCommit, namingDirectives, viewerAccount } from './submit-job.js';

/** How long a key answers with its first job. The IETF draft leaves it to the server; 24 h is Stripe's. */
export const IDEMPOTENCY_KEY_TTL_HOURS = 24;
const LIVE_SINCE = sql`now() - make_interval(hours => ${IDEMPOTENCY_KEY_TTL_HOURS})`;

/** Said on an answer that an earlier submit with the same key made its job. */
export const REPLAYED_HEADER = 'Idempotent-Replayed';

export interface SubmitOnce {
  /** The key as sent (idempotency-key.ts, readIdempotencyKey). */
  key: string;
  /** Where it was sent, named in a 422 when the key comes back with another request. */
  field: 'Idempotency-Key' | 'job.idempotency_key';
  /** SHA-256 of the path and canonical body (idempotency-key.ts, requestHash). */
  requestHash: string;
  /** The body a new job is answered with (JSON text), kept to answer every retry with the same bytes. */
  render(job: JobSummaryRow): string;
}

/** A submit's answer: 201 with `body` (JSON text); `replayed` when an earlier submit with the key made the job. */
export interface SubmitAnswer {
  jobId: number;
  status: number;
  body: string;
  replayed: boolean;
}

/**
 * Submits once per key: a new key makes the job (as submitJob, same refusals) and keeps its answer; a live key of the
 * same request answers that kept answer. Throws IdempotencyKeyReused (422) for a live key of another request,
 * RetryableConflict (503) in the instant a key's row is swept between the race and its read.
 */
export async function submitJobOnce(
  db: Database,
  services: Pick<Services, 'queue' | 'onWork' | 'capacities' | 'partitions' | 'faults' | 'priority' | 'logger'>,
  principal: Principal,
  body: SubmitRequest,
  once: SubmitOnce,
  reading?: SubmitReading,
): Promise<SubmitAnswer> {
  const scope = keyScope(principal);
  // A retry is answered before its job is judged again: the job it made may no longer fit (a node gone since).
  const earlier = await liveKey(db, scope, once.key);
  if (earlier) return replay(earlier, once);

  const spec = await admissibleSpec(db, services, principal, body, reading);
  const made = await db.transaction(async (tx) => {
    // Taken first, so a racing submit waits here, before it inserts a job. A row past its 24 h is taken over.
    const taken = await tx
      .insert(idempotencyKeys)
      .values({ scope, key: once.key, requestHash: once.requestHash })
      .onConflictDoUpdate({
        target: [idempotencyKeys.scope, idempotencyKeys.key],
        set: { requestHash: once.requestHash, jobId: null, status: null, body: null, createdAt: sql`now()` },
        setWhere: lt(idempotencyKeys.createdAt, LIVE_SINCE),
      })
      .returning({ key: idempotencyKeys.key });
    if (taken.length === 0) return undefined;
    const job = await insertSubmittedJob(
      tx,
      spec,
      actorName(principal),
      { withRef: services.queue.storesRefsWithJobs, priority: services.priority },
      viewerAccount(principal),
    ).catch(namingDirectives(reading));
    const answer = once.render(job);
    await tx
      .update(idempotencyKeys)
      .set({ jobId: job.id, status: 201, body: answer })
      .where(and(eq(idempotencyKeys.scope, scope), eq(idempotencyKeys.key, once.key)));
    return { job, answer };
  });
  if (!made) {
    const winner = await liveKey(db, scope, once.key);
    if (!winner) throw new RetryableConflict();
    return replay(winner, once);
  }
  await afterCommit(db, services, made.job);
  return { jobId: made.job.id, status: 201, body: made.answer, replayed: false };
}

/**
 * Whose keys a principal's are: a user token's account (every token of it shares them, and no other account sees
 * them); every admin token shares one scope of its own.
 */
export function keyScope(principal: Principal): string {
  return principal.kind === 'user' ? `account:${principal.account}` : 'admin';
}

/**
 * Deletes keys past their 24 h (the reconciler runs it), at most `limit` per call, and answers how many. A key past
 * its 24 h answers nothing even before it is swept.
 */
export async function sweepIdempotencyKeys(db: Database, limit = 10_000): Promise<number> {
  const expired = db
    .select({ scope: idempotencyKeys.scope, key: idempotencyKeys.key })
    .from(idempotencyKeys)
    .where(lt(idempotencyKeys.createdAt, LIVE_SINCE))
    .limit(limit);
  const deleted = await db
    .delete(idempotencyKeys)
    .where(sql`(${idempotencyKeys.scope}, ${idempotencyKeys.key}) IN (${expired})`)
    .returning({ key: idempotencyKeys.key });
  return deleted.length;
}

type KeyRow = { requestHash: string; jobId: number | null; status: number | null; body: string | null };

async function liveKey(db: Database, scope: string, key: string): Promise<KeyRow | undefined> {
  const [row] = await db
    .select({
      requestHash: idempotencyKeys.requestHash,
      jobId: idempotencyKeys.jobId,
      status: idempotencyKeys.status,
      body: idempotencyKeys.body,
    })
    .from(idempotencyKeys)
    .where(
      and(eq(idempotencyKeys.scope, scope), eq(idempotencyKeys.key, key), gt(idempotencyKeys.createdAt, LIVE_SINCE)),
    );
  return row;
}

function replay(row: KeyRow, once: SubmitOnce): SubmitAnswer {
  if (row.requestHash !== once.requestHash) throw new IdempotencyKeyReused(once.field);
  // A committed row always has its job and answer: they are written in the transaction that wrote it.
  return { jobId: row.jobId!, status: row.status!, body: row.body!, replayed: true };
}
