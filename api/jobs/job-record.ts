/**
 * A finished job's archived record (CONDUCTOR_ARCHIVE_JOBS, api/jobs/purge-jobs.ts): its fields as `GET /v1/jobs/{id}`
 * shows them and its events as `GET /v1/jobs/{id}/events` does, in one JSON object, so that whoever reads the
 * archive reads the API's own shapes. Not its script nor its environment: the store is shared with the node daemons,
 * whose credentials must not reach every job's secrets.
 */
import { asc, inArray } from 'drizzle-orm';
import type { Database } from '../../shared/db/database.js';
import { jobEvents, type JobEventRow, type JobRow } from '../../shared/db/schema.js';
import { jobEventView, jobView } from '../routes/v1/jobs/job-view.js';

/** The record's version: a reader of an archive written by an older release knows which shape it holds. */
export const JOB_RECORD_FORMAT = 'scns-conductor.job-record.v1';

/** The record of `row` with its `events` (oldest first), as UTF-8 JSON; `now`: when it is archived. */
export function jobRecord(row: JobRow, events: JobEventRow[], now: Date): Uint8Array {
  const record = { format: JOB_RECORD_FORMAT, job: jobView(row, now), events: events.map(jobEventView) };
  return new TextEncoder().encode(JSON.stringify(record));
}

/** The events of each of the jobs `ids`, oldest first: one query for a batch. */
export async function eventsOf(db: Database, ids: number[]): Promise<Map<number, JobEventRow[]>> {
  const rows = await db.select().from(jobEvents).where(inArray(jobEvents.jobId, ids)).orderBy(asc(jobEvents.id));
  const byJob = new Map<number, JobEventRow[]>();
  for (const row of rows) {
    const events = byJob.get(row.jobId) ?? [];
    events.push(row);
    byJob.set(row.jobId, events);
  }
  return byJob;
}
