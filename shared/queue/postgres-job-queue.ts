/**
 * The Postgres queue: the same contract as the Redis queue, for the embedded default and for sites without Redis.
 * Nodes reach it only through the API's claim endpoint (they hold no database credentials). Concurrent claimers
 * skip each other's locked refs (FOR UPDATE SKIP LOCKED) instead of waiting, and each reads only the head of each
 * partition through an index range, so a claim costs the same at any depth.
 */
import { sql, type SQL } from 'drizzle-orm';
import type { Database } from '../db/database.js';
import { queryRows } from '../db/query-rows.js';
import { bigintArray, intArray, nullableIntArray, nullableWordArray, wordArray } from '../db/pg-array.js';
import { runsJobOf } from '../protocol/runs-as.js';
import { firstFit } from './first-fit.js';
import {
  DEFAULT_CLAIM_MAX,
  DEFAULT_QUEUE_TUNING,
  type ClaimOptions,
  type JobQueue,
  type JobRef,
  type NodeCapacity,
  type QueueTuning,
  UNLIMITED,
} from './job-queue.js';

export class PostgresJobQueue implements JobQueue {
  readonly storesRefsWithJobs = true;

  constructor(
    private readonly db: Database,
    private readonly tuning: QueueTuning = DEFAULT_QUEUE_TUNING,
  ) {}

  async enqueue(refs: JobRef[]): Promise<void> {
    if (refs.length === 0) return;
    await this.db.execute(sql`
      INSERT INTO queue_refs (job_id, partition, cpus, memory_mb, priority, exclusive, unix_user, time_limit_seconds)
      SELECT * FROM unnest(
        ${bigintArray(refs.map((r) => r.id))}, ${wordArray(refs.map((r) => r.partition))},
        ${intArray(refs.map((r) => r.cpus))}, ${intArray(refs.map((r) => r.memoryMb))},
        ${intArray(refs.map((r) => r.priority))}, ${sql.raw(`'{${refs.map((r) => r.exclusive).join(',')}}'::boolean[]`)},
        ${nullableWordArray(refs.map((r) => r.user))},
        ${nullableIntArray(refs.map((r) => r.timeLimitSeconds))}
      )
      ON CONFLICT (job_id) DO NOTHING
    `);
  }

  async claim(capacity: NodeCapacity, options: ClaimOptions = {}): Promise<JobRef[]> {
    // Sorted and once each: claimers then note heads in one order (no deadlock), and a partition named twice is
    // not read twice.
    const names = [...new Set(capacity.partitions)].sort();
    if (names.length === 0) return [];
    // Paused partitions are left out in the statements themselves: no extra round trip to read them.
    const partitions = sql`ARRAY(SELECT unnest(${wordArray(names)}) EXCEPT SELECT partition FROM queue_paused ORDER BY 1)`;
    const heads = await this.#noteHeads(partitions);
    const max = options.max ?? DEFAULT_CLAIM_MAX;
    const reserved = heads.filter((head) => head.reserved);
    return this.db.transaction(async (tx) => {
      // Lock as few refs as the claim needs, so that concurrent claimers are not left only each other's leftovers:
      // a first chunk just big enough for `max`, doubled while first fit wants more, up to the window.
      let depth = Math.min(this.tuning.window, Math.max(max, 4));
      for (;;) {
        const candidates = (
          await queryRows(
            tx,
            sql`SELECT job_id AS id, partition, cpus, memory_mb, priority, exclusive, unix_user, time_limit_seconds
                FROM queue_window(${partitions}, ${depth}) ORDER BY priority DESC, job_id`,
          )
        ).map(toRef);
        // A reserved head that another claimer holds locked right now still holds this node back (if it runs it).
        const heldBack = reserved.some(
          (head) =>
            runsJobOf(capacity.runsAs, head.ref.user) &&
            !candidates.some((ref) => ref.id === head.ref.id) &&
            head.ref.cpus <= capacity.cpus &&
            head.ref.memoryMb <= capacity.memoryMb,
        );
        if (heldBack) return [];
        const { taken, wantsMore } = firstFit(
          candidates,
          capacity,
          new Set(reserved.map((head) => head.ref.id)),
          max,
          this.tuning.backfill,
        );
        const exhausted = names.every((name) => candidates.filter((ref) => ref.partition === name).length < depth);
        if (wantsMore && !exhausted && depth < this.tuning.window) {
          depth = Math.min(this.tuning.window, depth * 2);
          continue;
        }
        if (taken.length > 0) {
          await tx.execute(sql`
            UPDATE queue_refs SET claimed_by = ${capacity.node}, claimed_at = now()
            WHERE job_id = ANY(${bigintArray(taken.map((ref) => ref.id))})
          `);
        }
        return taken;
      }
    });
  }

  /**
   * Each partition's head now, and whether it has been the head past the starvation bound; a new head is noted with
   * its start time. One statement of its own, so that the head rows it locks are free again at once instead of at
   * the end of a claim (claimers would queue on them).
   */
  async #noteHeads(partitions: SQL): Promise<{ ref: JobRef; reserved: boolean }[]> {
    const rows = await queryRows(
      this.db,
      sql`
        WITH current AS (
          SELECT h.* FROM unnest(${partitions}) AS part(name)
          CROSS JOIN LATERAL (
            SELECT * FROM queue_refs r WHERE r.partition = part.name AND r.claimed_by IS NULL
            ORDER BY r.priority DESC, r.job_id LIMIT 1
          ) h
        ), noted AS (
          INSERT INTO queue_heads (partition, job_id, since)
          SELECT partition, job_id, now() FROM current ORDER BY partition
          ON CONFLICT (partition) DO UPDATE SET job_id = EXCLUDED.job_id, since = EXCLUDED.since
          WHERE queue_heads.job_id <> EXCLUDED.job_id
        )
        SELECT current.job_id AS id, current.partition, current.cpus, current.memory_mb, current.priority,
               current.exclusive, current.unix_user, current.time_limit_seconds,
               -- A new head's clock starts now.
               coalesce(CASE WHEN known.job_id = current.job_id THEN known.since END, now())
                 <= now() - ${this.tuning.starvationMs} * interval '1 millisecond' AS overdue
        FROM current LEFT JOIN queue_heads known ON known.partition = current.partition
      `,
    );
    return rows.map((row) => ({ ref: toRef(row), reserved: row.overdue === true }));
  }

  async settle(node: string, ids: number[]): Promise<number[]> {
    if (ids.length === 0) return [];
    const rows = await queryRows(
      this.db,
      sql`DELETE FROM queue_refs WHERE claimed_by = ${node} AND job_id = ANY(${bigintArray(ids)}) RETURNING job_id`,
    );
    return rows.map((row) => Number(row.job_id));
  }

  async release(node: string, ids: number[]): Promise<number> {
    if (ids.length === 0) return 0;
    return this.#unclaim(sql`claimed_by = ${node} AND job_id = ANY(${bigintArray(ids)})`);
  }

  requeueNode(node: string): Promise<number> {
    return this.#unclaim(sql`claimed_by = ${node}`);
  }

  releaseStale(olderThanMs: number): Promise<number> {
    return this.#unclaim(
      sql`claimed_by IS NOT NULL AND claimed_at < now() - ${olderThanMs} * interval '1 millisecond'`,
    );
  }

  async #unclaim(where: SQL): Promise<number> {
    const rows = await queryRows(
      this.db,
      sql`UPDATE queue_refs SET claimed_by = NULL, claimed_at = NULL WHERE ${where} RETURNING job_id`,
    );
    return rows.length;
  }

  async remove(ids: number[]): Promise<void> {
    if (ids.length === 0) return;
    await this.db.execute(sql`DELETE FROM queue_refs WHERE job_id = ANY(${bigintArray(ids)})`);
  }

  async pausePartitions(names: string[]): Promise<void> {
    // One statement: a concurrent claim sees the old set or the new one, never none.
    await this.db.execute(sql`
      WITH unpaused AS (DELETE FROM queue_paused WHERE partition <> ALL(${wordArray(names)}))
      INSERT INTO queue_paused (partition) SELECT DISTINCT unnest(${wordArray(names)}) ON CONFLICT DO NOTHING
    `);
  }

  async missing(ids: number[]): Promise<number[]> {
    if (ids.length === 0) return [];
    const rows = await queryRows(
      this.db,
      sql`SELECT id FROM unnest(${bigintArray(ids)}) AS wanted(id)
          WHERE NOT EXISTS (SELECT 1 FROM queue_refs WHERE job_id = wanted.id) ORDER BY id`,
    );
    return rows.map((row) => Number(row.id));
  }

  async depth(): Promise<Record<string, number>> {
    const rows = await queryRows(
      this.db,
      sql`SELECT partition, count(*)::int AS n FROM queue_refs WHERE claimed_by IS NULL GROUP BY partition`,
    );
    return Object.fromEntries(rows.map((row) => [String(row.partition), Number(row.n)]));
  }

  async close(): Promise<void> {}

  async reprioritise(changes: { id: number; priority: number }[]): Promise<number> {
    if (changes.length === 0) return 0;
    const rows = await queryRows(
      this.db,
      sql`UPDATE queue_refs r SET priority = c.priority
          FROM unnest(${bigintArray(changes.map((c) => c.id))}, ${intArray(changes.map((c) => c.priority))}) AS c(id, priority)
          WHERE r.job_id = c.id AND r.priority <> c.priority
          RETURNING r.claimed_by IS NULL AS queued`,
    );
    return rows.filter((row) => row.queued === true).length;
  }
}

function toRef(row: Record<string, unknown>): JobRef {
  return {
    id: Number(row.id),
    partition: String(row.partition),
    cpus: Number(row.cpus),
    memoryMb: Number(row.memory_mb),
    priority: Number(row.priority),
    exclusive: row.exclusive === true,
    user: row.unix_user === null || row.unix_user === undefined ? null : String(row.unix_user),
    timeLimitSeconds:
      row.time_limit_seconds === null || row.time_limit_seconds === undefined
        ? UNLIMITED
        : Number(row.time_limit_seconds),
  };
}
