/**
 * Retention (shared/config/retention-settings.ts): the reconciler's last step deletes, oldest end first and at most
 * `limit` jobs per pass, the stored output of jobs ended longer ago than the output retention (marking each
 * `output_purged_at`), then the rows of jobs ended longer ago than the job retention whose output is gone (their
 * events and idempotency keys cascade). Each pass reads the front of its own index (migration 0016): O(limit),
 * however many jobs are kept. Only finished jobs have an end time, so no PENDING or RUNNING job is ever touched; and a
 * job is at least a day old when deleted, past its idempotency key's 24 h (api/jobs/idempotent-submit.ts).
 * Two API processes purging at once delete the same things twice, which is harmless. With CONDUCTOR_ARCHIVE_JOBS, each
 * job's record (its fields as /v1 shows them, and its events) is written to the store before its row is deleted, and
 * a row is deleted only once its record is stored.
 */
import { and, asc, inArray, isNotNull, isNull, lt } from 'drizzle-orm';
import type { Retention } from '../../shared/config/retention-settings.js';
import type { Database } from '../../shared/db/database.js';
import { jobs } from '../../shared/db/schema.js';
import type { JobArchive } from '../../shared/logs/job-archive.js';
import type { LogStore } from '../../shared/logs/log-store.js';
import { eventsOf, jobRecord } from './job-record.js';

/**
 * Deletes the stored output of up to `limit` jobs past the output retention; answers how many jobs it did. A job
 * stored before cluster ids (`legacy_log_keys`) has its old keys deleted too. Without a store (a Worker that serves
 * no output) there is nothing to delete, and the jobs are marked all the same.
 * @param cluster this API's cluster id (a uuid)
 * @throws LogStoreUnavailable when the store does not answer: the jobs done until then stay marked, the rest are
 *   tried again next run
 */
export async function purgeOutput(
  db: Database,
  logs: LogStore | undefined,
  cluster: () => Promise<string>,
  retention: Retention,
  now: Date,
  limit: number,
): Promise<number> {
  if (retention.outputMs === null) return 0;
  const rows = await db
    .select({ id: jobs.id, legacyLogKeys: jobs.legacyLogKeys })
    .from(jobs)
    .where(and(isNull(jobs.outputPurgedAt), lt(jobs.endTime, new Date(now.getTime() - retention.outputMs))))
    .orderBy(asc(jobs.endTime))
    .limit(limit);
  if (rows.length === 0) return 0;
  const done: number[] = [];
  try {
    if (logs) {
      const clusterId = await cluster();
      for (const row of rows) {
        await logs.deleteJob({ cluster: clusterId, jobId: row.id });
        if (row.legacyLogKeys) await logs.deleteJob({ jobId: row.id });
        done.push(row.id);
      }
    } else {
      done.push(...rows.map((row) => row.id));
    }
  } finally {
    if (done.length) await db.update(jobs).set({ outputPurgedAt: now }).where(inArray(jobs.id, done));
  }
  return done.length;
}

/**
 * Deletes the rows of up to `limit` jobs past the job retention whose stored output is deleted; answers how many.
 * The output retention is never longer (the settings refuse it), so the output pass has reached them before. With
 * `retention.archive`, each job's record goes to `archive` first (api/jobs/job-record.ts), and only the jobs whose
 * record is stored are deleted.
 * @param cluster this API's cluster id (a uuid), read only when archiving
 * @throws LogStoreUnavailable when the archive does not take a record: the jobs archived until then are deleted, the
 *   rest are tried again next run
 */
export async function purgeJobs(
  db: Database,
  archive: JobArchive | undefined,
  cluster: () => Promise<string>,
  retention: Retention,
  now: Date,
  limit: number,
): Promise<number> {
  if (retention.jobMs === null) return 0;
  const expired = and(lt(jobs.endTime, new Date(now.getTime() - retention.jobMs)), isNotNull(jobs.outputPurgedAt));
  if (!retention.archive) {
    const batch = db.select({ id: jobs.id }).from(jobs).where(expired).orderBy(asc(jobs.endTime)).limit(limit);
    const deleted = await db.delete(jobs).where(inArray(jobs.id, batch)).returning({ id: jobs.id });
    return deleted.length;
  }
  if (!archive) throw new Error('CONDUCTOR_ARCHIVE_JOBS=yes needs a log store to archive to');
  const rows = await db.select().from(jobs).where(expired).orderBy(asc(jobs.endTime)).limit(limit);
  if (rows.length === 0) return 0;
  const clusterId = await cluster();
  const events = await eventsOf(
    db,
    rows.map((row) => row.id),
  );
  const archived: number[] = [];
  try {
    for (const row of rows) {
      await archive.archiveJob({ cluster: clusterId, jobId: row.id }, jobRecord(row, events.get(row.id) ?? [], now));
      archived.push(row.id);
    }
  } finally {
    if (archived.length) await db.delete(jobs).where(inArray(jobs.id, archived));
  }
  return archived.length;
}
