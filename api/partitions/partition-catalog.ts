/**
 * The partitions table as this process last read it, for submits and heartbeats. A submit usually costs no query: the
 * table is kept for a few seconds, and a job the kept copy admits is admitted. A refusal is always decided on a fresh
 * read, so a partition an admin just created, opened or widened elsewhere is never refused against (as
 * api/nodes/partition-capacity.ts does for the nodes' capacities). Writes through this process forget the copy.
 */
import type { Database } from '../../shared/db/database.js';
import type { PartitionRow } from '../../shared/db/schema.js';
import { admitToPartition, type Admissible, type Admission, type AskedFor } from './partition-admission.js';
import { createMissingPartitions, readPartitions } from './partition-store.js';

/** How long a read of the table is used: an admin's change elsewhere reaches this process's admissions within it. */
const CACHE_MS = 5000;
/** How long a partition made sure of is taken to exist without asking again. */
const ENSURED_MS = 60_000;

export class PartitionCatalog {
  #cached: { rows: PartitionRow[]; readAt: number } | undefined;
  /** When this process last made sure each partition exists. */
  readonly #ensured = new Map<string, number>();

  constructor(private readonly now: () => number) {}

  /** The job as its partition takes it, or why not (partition-admission.ts). */
  async admit<S extends Admissible>(db: Database, asked: AskedFor, spec: S): Promise<Admission<S>> {
    const cached = this.#fresh();
    if (cached) {
      const admission = admitToPartition(cached, asked, spec);
      if ('spec' in admission) return admission;
    }
    return admitToPartition(await this.#read(db), asked, spec);
  }

  /**
   * Makes sure each of `names` is a partition (a node serves it, or a node token grants it), creating the missing
   * ones without limits. A name this process made sure of within the last minute costs nothing: a node's heartbeat
   * stays one statement (issue 22). A partition an admin deleted elsewhere meanwhile comes back at the next check.
   */
  async ensure(db: Database, names: readonly string[]): Promise<void> {
    const now = this.now();
    if (names.every((name) => now - (this.#ensured.get(name) ?? -Infinity) < ENSURED_MS)) return;
    await createMissingPartitions(db, names);
    this.forget();
    for (const name of names) this.#ensured.set(name, now);
  }

  /** Drops what this process keeps: the next admission reads the table, the next ensure writes. */
  forget(): void {
    this.#cached = undefined;
    this.#ensured.clear();
  }

  #fresh(): PartitionRow[] | undefined {
    const cached = this.#cached;
    return cached && this.now() - cached.readAt < CACHE_MS ? cached.rows : undefined;
  }

  async #read(db: Database): Promise<PartitionRow[]> {
    const rows = await readPartitions(db);
    this.#cached = { rows, readAt: this.now() };
    return rows;
  }
}
