/**
 * Configured partitions (issue 19, item 1): Slurm's PartitionName lines (slurm.conf(5), "PARTITION CONFIGURATION") as
 * rows of the `partitions` table, read and written here only. A partition is named by its row; a job may be submitted
 * only to one that exists (partition-admission.ts).
 */
import { asc, eq, getTableColumns, sql } from 'drizzle-orm';
import type { Database } from '../../shared/db/database.js';
import { wordArray } from '../../shared/db/pg-array.js';
import { queryRows } from '../../shared/db/query-rows.js';
import { partitions, type PartitionRow, type PartitionState } from '../../shared/db/schema.js';
import { PartitionInUse, PartitionNotFound } from '../http/errors.js';

/** What an admin sets on a partition: null limits are none (Slurm's UNLIMITED), null allowAccounts is ALL. */
export interface PartitionSettings {
  state: PartitionState;
  allowAccounts: string[] | null;
  /** Seconds; null: a job without a time limit gets the built-in default (partition-admission.ts). */
  defaultTimeSeconds: number | null;
  /** Seconds; null: UNLIMITED. */
  maxTimeSeconds: number | null;
  maxCpusPerJob: number | null;
  /** Megabytes. */
  maxMemoryMbPerJob: number | null;
  priorityTier: number;
  /** true: this becomes THE default partition; false: it stops being it; undefined: unchanged (false when new). */
  isDefault?: boolean | undefined;
}

/** A partition with what serves it: its registered nodes (all, and UP ones) and their CPUs (nodes not DOWN). */
export interface PartitionWithNodes extends PartitionRow {
  nodes: number;
  nodesUp: number;
  cpus: number;
}

/** Every partition, by name. */
export async function readPartitions(db: Database): Promise<PartitionRow[]> {
  return db.select().from(partitions).orderBy(asc(partitions.name));
}

/** Every partition by name with the nodes that list it (sinfo -s's NODES and CPUS), or only `name`'s. */
export async function listPartitionsWithNodes(db: Database, name?: string): Promise<PartitionWithNodes[]> {
  const rows = await queryRows(
    db,
    sql`SELECT p.name,
          count(n.name) AS nodes,
          count(n.name) FILTER (WHERE n.state = 'UP') AS nodes_up,
          coalesce(sum(n.cpus) FILTER (WHERE n.state <> 'DOWN'), 0) AS cpus
        FROM partitions p LEFT JOIN nodes n ON p.name = ANY(n.partitions)
        ${name === undefined ? sql`` : sql`WHERE p.name = ${name}`}
        GROUP BY p.name`,
  );
  const served = new Map(rows.map((row) => [String(row.name), row]));
  const configured = name === undefined ? await readPartitions(db) : await findPartitionRows(db, name);
  return configured.map((row) => {
    const counts = served.get(row.name);
    return {
      ...row,
      nodes: Number(counts?.nodes ?? 0),
      nodesUp: Number(counts?.nodes_up ?? 0),
      cpus: Number(counts?.cpus ?? 0),
    };
  });
}

/** @throws PartitionNotFound no partition of that name */
export async function findPartitionWithNodes(db: Database, name: string): Promise<PartitionWithNodes> {
  const [row] = await listPartitionsWithNodes(db, name);
  if (!row) throw new PartitionNotFound(name);
  return row;
}

function findPartitionRows(db: Database, name: string): Promise<PartitionRow[]> {
  return db.select().from(partitions).where(eq(partitions.name, name));
}

/**
 * Creates the partition or replaces its settings (scontrol create/update PartitionName=). Making it the default takes
 * the mark from the old default in the same transaction, under a lock that serialises default switches (two racing
 * would otherwise both unset the old one and collide on the one-default index). Answers the row, whether it is new,
 * and its state before (null: new).
 */
export async function putPartition(
  db: Database,
  name: string,
  settings: PartitionSettings,
): Promise<{ row: PartitionRow; created: boolean; previousState: PartitionState | null }> {
  const values = {
    state: settings.state,
    allowAccounts: settings.allowAccounts,
    defaultTimeSeconds: settings.defaultTimeSeconds,
    maxTimeSeconds: settings.maxTimeSeconds,
    maxCpusPerJob: settings.maxCpusPerJob,
    maxMemoryMbPerJob: settings.maxMemoryMbPerJob,
    priorityTier: settings.priorityTier,
    ...(settings.isDefault === undefined ? {} : { isDefault: settings.isDefault }),
  };
  return db.transaction(async (tx) => {
    if (settings.isDefault) {
      // Only writers wait on this lock (plain reads, such as a submit's, take a weaker one).
      await tx.execute(sql`LOCK TABLE partitions IN SHARE ROW EXCLUSIVE MODE`);
      await tx
        .update(partitions)
        .set({ isDefault: false })
        .where(sql`is_default AND name <> ${name}`);
    }
    const [previous] = await tx
      .select({ state: partitions.state })
      .from(partitions)
      .where(eq(partitions.name, name))
      .for('update');
    const [stored] = await tx
      .insert(partitions)
      .values({ name, ...values })
      .onConflictDoUpdate({ target: partitions.name, set: { ...values, updatedAt: sql`now()` } })
      // xmax is 0 on a row this statement inserted, and set on one it updated.
      .returning({ ...getTableColumns(partitions), created: sql<boolean>`(xmax = 0)` });
    const { created, ...row } = stored!;
    return { row, created: Boolean(created), previousState: previous?.state ?? null };
  });
}

/**
 * Deletes a partition. Refused while it is the default, or while any of its jobs is PENDING or RUNNING (they would
 * be left in a partition that does not exist): checked in the delete's own statement.
 * @throws PartitionNotFound no partition of that name
 * @throws PartitionInUse it is the default partition, or has pending or running jobs
 */
export async function deletePartition(db: Database, name: string): Promise<PartitionRow> {
  const [deleted] = await db
    .delete(partitions)
    .where(
      sql`name = ${name} AND NOT is_default
          AND NOT EXISTS (SELECT 1 FROM jobs WHERE partition = ${name} AND state IN ('PENDING', 'RUNNING'))`,
    )
    .returning();
  if (deleted) return deleted;
  const [row] = await findPartitionRows(db, name);
  if (!row) throw new PartitionNotFound(name);
  if (row.isDefault) throw new PartitionInUse(name, 'it is the default partition: make another one the default first');
  const [active] = await queryRows(
    db,
    sql`SELECT count(*) AS jobs FROM jobs WHERE partition = ${name} AND state IN ('PENDING', 'RUNNING')`,
  );
  throw new PartitionInUse(name, `${Number(active?.jobs ?? 0)} of its jobs are PENDING or RUNNING`);
}

/**
 * Creates, as partitions without limits (state UP), those of `names` that do not exist: a node serving a partition,
 * or an admin granting one to a node's token, configures it. One statement, which writes nothing when all exist (a
 * heartbeat's cost stays a read: issue 22).
 */
export async function createMissingPartitions(db: Database, names: readonly string[]): Promise<void> {
  if (names.length === 0) return;
  await db.execute(
    sql`INSERT INTO partitions (name)
        SELECT wanted FROM unnest(${wordArray(names)}) AS wanted
        WHERE NOT EXISTS (SELECT 1 FROM partitions WHERE name = wanted)
        ON CONFLICT (name) DO NOTHING`,
  );
}
