/**
 * The Postgres queue: the same contract as the Redis queue, for the embedded default and for sites without Redis.
 * Nodes reach it only through the API's claim endpoint (they hold no database credentials). Concurrent claimers
 * skip each other's locked refs (FOR UPDATE SKIP LOCKED) instead of waiting, and each reads only the head of each
 * partition through an index range, so a claim costs the same at any depth.
 */
import { sql, type SQL } from 'drizzle-orm';
import type { Database } from '../db/database.js';
import { queryRows } from '../db/query-rows.js';
import { firstFit } from './first-fit.js';
import {
  DEFAULT_CLAIM_MAX,
  DEFAULT_QUEUE_TUNING,
  type ClaimOptions,
  type JobQueue,
  type JobRef,
  type NodeCapacity,
  type QueueTuning,
} from './job-queue.js';

export class PostgresJobQueue implements JobQueue {
  constructor(
    private readonly db: Database,
    private readonly tuning: QueueTuning = DEFAULT_QUEUE_TUNING,
  ) {}

  async enqueue(refs: JobRef[]): Promise<void> {
    if (refs.length === 0) return;
    await this.db.execute(sql`
      INSERT INTO queue_refs (job_id, partition, cpus, memory_mb, priority, exclusive)
      SELECT * FROM unnest(
        ${bigintArray(refs.map((r) => r.id))}, ${textArray(refs.map((r) => r.partition))},
        ${intArray(refs.map((r) => r.cpus))}, ${intArray(refs.map((r) => r.memoryMb))},
        ${intArray(refs.map((r) => r.priority))}, ${sql.raw(`'{${refs.map((r) => r.exclusive).join(',')}}'::boolean[]`)}
      )
      ON CONFLICT (job_id) DO NOTHING
    `);
  }

  async claim(capacity: NodeCapacity, options: ClaimOptions = {}): Promise<JobRef[]> {
    if (capacity.partitions.length === 0) return [];
    const partitions = textArray(capacity.partitions);
    return this.db.transaction(async (tx) => {
      const heads = await this.#heads(tx as unknown as Database, partitions);
      const candidates = (
        await queryRows(
          tx as unknown as Database,
          sql`
            SELECT c.job_id AS id, c.partition, c.cpus, c.memory_mb, c.priority, c.exclusive
            FROM unnest(${partitions}) AS part(name)
            CROSS JOIN LATERAL (
              SELECT * FROM queue_refs r
              WHERE r.partition = part.name AND r.claimed_by IS NULL
              ORDER BY r.priority DESC, r.job_id
              LIMIT ${this.tuning.window}
              FOR UPDATE SKIP LOCKED
            ) c
            ORDER BY c.priority DESC, c.job_id
          `,
        )
      ).map(toRef);
      const reserved = heads.filter((head) => head.reserved);
      // A reserved head that another claimer holds locked right now still holds this node back from its partition.
      const heldBack = new Set(
        reserved
          .filter((head) => !candidates.some((ref) => ref.id === head.ref.id))
          .filter((head) => head.ref.cpus <= capacity.cpus && head.ref.memoryMb <= capacity.memoryMb)
          .map((head) => head.ref.partition),
      );
      const taken = firstFit(
        candidates.filter((ref) => !heldBack.has(ref.partition)),
        capacity,
        new Set(reserved.map((head) => head.ref.id)),
        options.max ?? DEFAULT_CLAIM_MAX,
      );
      if (taken.length > 0) {
        await tx.execute(sql`
          UPDATE queue_refs SET claimed_by = ${capacity.node}, claimed_at = now()
          WHERE job_id = ANY(${bigintArray(taken.map((ref) => ref.id))})
        `);
      }
      return taken;
    });
  }

  /** Each partition's head now, whether it has been the head past the starvation bound, and the new heads noted. */
  async #heads(tx: Database, partitions: SQL): Promise<{ ref: JobRef; reserved: boolean }[]> {
    const rows = await queryRows(
      tx,
      sql`
        SELECT h.job_id AS id, h.partition, h.cpus, h.memory_mb, h.priority, h.exclusive,
               known.job_id IS NOT DISTINCT FROM h.job_id AS same,
               -- A new head's clock starts now.
               coalesce(CASE WHEN known.job_id = h.job_id THEN known.since END, now())
                 <= now() - ${this.tuning.starvationMs} * interval '1 millisecond' AS overdue
        FROM unnest(${partitions}) AS part(name)
        CROSS JOIN LATERAL (
          SELECT * FROM queue_refs r WHERE r.partition = part.name AND r.claimed_by IS NULL
          ORDER BY r.priority DESC, r.job_id LIMIT 1
        ) h
        LEFT JOIN queue_heads known ON known.partition = part.name
      `,
    );
    const changed = rows.filter((row) => row.same !== true);
    if (changed.length > 0) {
      // Written only when a head changes, so that claimers do not queue up on these rows.
      await tx.execute(sql`
        INSERT INTO queue_heads (partition, job_id, since)
        SELECT * FROM unnest(${textArray(changed.map((row) => String(row.partition)))},
                             ${bigintArray(changed.map((row) => Number(row.id)))}), now()
        ON CONFLICT (partition) DO UPDATE SET job_id = EXCLUDED.job_id, since = EXCLUDED.since
      `);
    }
    return rows.map((row) => ({ ref: toRef(row), reserved: row.overdue === true }));
  }

  async settle(node: string, ids: number[]): Promise<number> {
    if (ids.length === 0) return 0;
    const rows = await queryRows(
      this.db,
      sql`DELETE FROM queue_refs WHERE claimed_by = ${node} AND job_id = ANY(${bigintArray(ids)}) RETURNING job_id`,
    );
    return rows.length;
  }

  async release(node: string, ids: number[]): Promise<number> {
    if (ids.length === 0) return 0;
    return this.#unclaim(sql`claimed_by = ${node} AND job_id = ANY(${bigintArray(ids)})`);
  }

  requeueNode(node: string): Promise<number> {
    return this.#unclaim(sql`claimed_by = ${node}`);
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
}

// Arrays go over as one text literal each: every driver (pg, PGlite, Neon) passes a string through unchanged.
const bigintArray = (values: number[]) => sql`${`{${values.join(',')}}`}::bigint[]`;
const intArray = (values: number[]) => sql`${`{${values.join(',')}}`}::integer[]`;
// Partition names are identifiers (letters, digits, _ . -): nothing in them needs quoting in an array literal.
const textArray = (values: string[]) => sql`${`{${values.join(',')}}`}::text[]`;

function toRef(row: Record<string, unknown>): JobRef {
  return {
    id: Number(row.id),
    partition: String(row.partition),
    cpus: Number(row.cpus),
    memoryMb: Number(row.memory_mb),
    priority: Number(row.priority),
    exclusive: row.exclusive === true,
  };
}
