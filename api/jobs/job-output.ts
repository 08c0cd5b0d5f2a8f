/** A job's output as the API serves it, read from the log store: the stream of one attempt, and where a tail starts. */
import { inArray } from 'drizzle-orm';
import type { Database } from '../../shared/db/database.js';
import { jobs, type JobRow } from '../../shared/db/schema.js';
import { expandOutputPath, sameOutputPath } from '../../shared/job/output-path.js';
import { outputNames } from './array-task-view.js';
import { storedEnd, tailLines } from '../../shared/logs/log-reader.js';
import type { LogStore, LogStream, LogStreamId } from '../../shared/logs/log-store.js';

/**
 * Where the output of one attempt of a job is: under the cluster's keys (`{cluster}/jobs/…`). Only a job stored
 * before cluster ids (`legacy_log_keys`, migration 0013) may have it under the old keys (`jobs/…`): read there when
 * the cluster's keys hold none of that stream and the old ones do. A job stored since is never read there, where
 * another cluster sharing the store may have written the same job id.
 * @param cluster this API's cluster id (a uuid)
 * @throws LogStoreUnavailable when the store does not answer the look
 */
export async function streamOf(
  store: LogStore,
  job: JobRow,
  stream: LogStream,
  cluster: string,
  attempt = job.attempt,
): Promise<LogStreamId> {
  const id: LogStreamId = { cluster, jobId: job.id, attempt, stream };
  if (!job.legacyLogKeys) return id;
  const legacy: LogStreamId = { jobId: job.id, attempt, stream };
  return !(await holdsChunks(store, id)) && (await holdsChunks(store, legacy)) ? legacy : id;
}

/**
 * Jobs confirmed to a daemon of a protocol before 4, which knows no cluster id and ships their output under the old
 * keys: marked so that the API reads them there (the same rule as a job stored before cluster ids).
 */
export async function markLegacyLogKeys(db: Database, ids: number[]): Promise<void> {
  if (ids.length) await db.update(jobs).set({ legacyLogKeys: true }).where(inArray(jobs.id, ids));
}

/**
 * Whether this attempt's stderr is in its stdout: the job's two paths name one file (as the API can tell:
 * shared/job/output-path.ts), which its node opened once and stored once, as stdout. A job whose node stored that
 * file under both streams (its daemon from before, issue 14) has stderr chunks, and they are served as they are.
 * @throws LogStoreUnavailable when the store does not answer the look
 */
export async function mergedIntoStdout(store: LogStore, job: JobRow, stderr: LogStreamId): Promise<boolean> {
  const names = { ...outputNames(job), user: job.user, node: job.nodeName };
  const paths = [job.stdoutPattern, job.stderrPattern].map((pattern) => expandOutputPath(pattern, names));
  return sameOutputPath(paths[0]!, paths[1]!, job.workDir) && !(await holdsChunks(store, stderr));
}

async function holdsChunks(store: LogStore, id: LogStreamId): Promise<boolean> {
  const listed = store.list(id)[Symbol.asyncIterator]();
  const first = await listed.next();
  await listed.return?.();
  return !first.done;
}

// Lines are looked for this far back at most: output without newlines must not be read whole to find none.
const TAIL_SCAN_MAX_BYTES = 64 * 2 ** 20;

/** Where a tail starts: the last `lines` lines (within the last 64 MiB), or the last `bytes` bytes. */
export async function tailStart(
  store: LogStore,
  id: LogStreamId,
  tail: { lines: number } | { bytes: number },
): Promise<number> {
  if ('lines' in tail) return (await tailLines(store, id, tail.lines, { maxBytes: TAIL_SCAN_MAX_BYTES })).start;
  return Math.max(0, (await storedEnd(store, id)) - tail.bytes);
}
