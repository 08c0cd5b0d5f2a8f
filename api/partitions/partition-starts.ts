/**
 * Which partitions start jobs: slurm.conf(5), State=: a DOWN partition "may accept new jobs but not start them", an
 * INACTIVE one neither accepts nor starts; UP and DRAIN ones start the jobs they hold (DRAIN only refuses new ones).
 */
import { sql, type SQL } from 'drizzle-orm';
import type { Database } from '../../shared/db/database.js';
import { queryRows } from '../../shared/db/query-rows.js';
import type { JobQueue } from '../../shared/queue/job-queue.js';
import type { PartitionState } from '../../shared/db/schema.js';

/**
 * The condition, for a statement's WHERE, that a job of `partition` (an SQL expression naming a partition) may start:
 * its partition exists and is UP or DRAIN. Checked in the confirm's own statement (api/jobs/confirm-claims.ts), so a
 * partition set DOWN starts nothing from that moment, whatever refs the queue still hands out.
 */
export function partitionStartsJobs(partition: SQL): SQL {
  return sql`EXISTS (SELECT 1 FROM partitions p WHERE p.name = ${partition} AND p.state IN ('UP', 'DRAIN'))`;
}

/** Whether a partition in this state starts its jobs (null: no such partition, which starts nothing). */
export function startsJobs(state: PartitionState | null): boolean {
  return state === 'UP' || state === 'DRAIN';
}

/**
 * The partitions that start nothing now (DOWN or INACTIVE), by name: what the queue's claims should skip
 * (JobQueue.pausePartitions), so that their refs are not claimed only to be dropped at the confirm.
 */
export async function pausedPartitionNames(db: Database): Promise<string[]> {
  const rows = await queryRows(db, sql`SELECT name FROM partitions WHERE state IN ('DOWN', 'INACTIVE') ORDER BY name`);
  return rows.map((row) => String(row.name));
}

/**
 * Makes the queue's paused set the partitions that start nothing now. Called after a partition changes, and by every
 * reconciler run: the Redis queue's set is rebuilt from Postgres after a flush, and another API process's change
 * reaches this one's queue there too. Throws what the queue throws.
 */
export async function syncPausedPartitions(db: Database, queue: JobQueue): Promise<string[]> {
  const names = await pausedPartitionNames(db);
  await queue.pausePartitions(names);
  return names;
}
