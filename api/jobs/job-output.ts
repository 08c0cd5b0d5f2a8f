/** A job's output as the API serves it, read from the log store: the stream of one attempt, and where a tail starts. */
import type { JobRow } from '../../shared/db/schema.js';
import { storedEnd, tailLines } from '../../shared/logs/log-reader.js';
import type { LogStore, LogStream, LogStreamId } from '../../shared/logs/log-store.js';

export const streamOf = (job: JobRow, stream: LogStream, attempt = job.attempt): LogStreamId => ({
  jobId: job.id,
  attempt,
  stream,
});

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
