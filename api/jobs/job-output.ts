/**
 * A job's output as the API serves it, read from the log store: the stream of one attempt, the original's `job_log`,
 * and following a running job's stream as it grows.
 */
import type { JobRow } from '../../shared/db/schema.js';
import { isTerminal } from '../../shared/job/job-state.js';
import { readRange, storedEnd, tailLines } from '../../shared/logs/log-reader.js';
import type { LogStore, LogStream, LogStreamId } from '../../shared/logs/log-store.js';

export const streamOf = (job: JobRow, stream: LogStream, attempt = job.attempt): LogStreamId => ({
  jobId: job.id,
  attempt,
  stream,
});

// The original read the whole file below 1 MiB, else its last 1,000 lines after this marker.
const ORIGINAL_WHOLE_BELOW = 2 ** 20;
const ORIGINAL_TAIL_LINES = 1000;
const ORIGINAL_MARKER = `...（仅展示最后 ${ORIGINAL_TAIL_LINES} 行）...\n`;

/** The original `job_log` of the job's latest attempt: what its log reader made of the output files. */
export async function originalJobLog(store: LogStore, job: JobRow): Promise<{ stdout: string; stderr: string }> {
  if (job.attempt === 0) return { stdout: '', stderr: '' };
  const [stdout, stderr] = await Promise.all(
    (['stdout', 'stderr'] as const).map((stream) => originalText(store, streamOf(job, stream))),
  );
  return { stdout: stdout!, stderr: stderr! };
}

async function originalText(store: LogStore, id: LogStreamId): Promise<string> {
  const end = await storedEnd(store, id);
  if (end < ORIGINAL_WHOLE_BELOW) return pythonText((await readRange(store, id, 0, end)).bytes);
  const tail = await tailLines(store, id, ORIGINAL_TAIL_LINES, true);
  const text = pythonText((await readRange(store, id, tail.start, tail.end - tail.start)).bytes);
  return tail.full ? ORIGINAL_MARKER + text : text;
}

/**
 * Text as the original's Python read it: UTF-8 with undecodable bytes dropped (errors="ignore"; a U+FFFD the job
 * wrote itself is dropped too) and universal newlines (CRLF and a lone CR read as LF).
 */
function pythonText(bytes: Uint8Array): string {
  return new TextDecoder('utf-8', { ignoreBOM: true })
    .decode(bytes)
    .replace(/\uFFFD/g, '')
    .replace(/\r\n?/g, '\n');
}

/** Where a tail starts: the last `lines` lines, or the last `bytes` bytes. */
export async function tailStart(
  store: LogStore,
  id: LogStreamId,
  tail: { lines: number } | { bytes: number },
): Promise<number> {
  if ('lines' in tail) return (await tailLines(store, id, tail.lines)).start;
  return Math.max(0, (await storedEnd(store, id)) - tail.bytes);
}

export interface Follow {
  store: LogStore;
  /** Attempt 0 follows the job's first attempt, once it starts. */
  id: LogStreamId;
  offset: number;
  /** The job as it is now: following ends once this attempt is over. */
  reload(): Promise<JobRow>;
  write(bytes: Uint8Array): Promise<void>;
  sleep(ms: number): Promise<void>;
  aborted(): boolean;
  pollMs: number;
  /** At most this many bytes are read from the store at once. */
  chunkBytes: number;
}

/**
 * Writes the stream from `offset` as it grows, until the attempt is over and everything stored has been written. A
 * node stores all of a run's output before it reports the end, so a read after the end was seen misses nothing.
 */
export async function followOutput(follow: Follow): Promise<void> {
  let { id, offset } = follow;
  // Attempt 0: the job has not started yet; its first attempt is followed once it has.
  while (id.attempt === 0) {
    if (follow.aborted()) return;
    const job = await follow.reload();
    if (job.attempt > 0) id = { ...id, attempt: job.attempt };
    else if (isTerminal(job.state)) return;
    else await follow.sleep(follow.pollMs);
  }
  let over = false;
  while (!follow.aborted()) {
    const { bytes, next } = await readRange(follow.store, id, offset, follow.chunkBytes);
    if (bytes.length > 0) {
      await follow.write(bytes);
      offset = next;
      continue;
    }
    if (over) return;
    const job = await follow.reload();
    // Over: ended, or requeued as a later attempt. One more read takes what was stored before the end was told.
    over = isTerminal(job.state) || job.attempt > id.attempt;
    if (!over) await follow.sleep(follow.pollMs);
  }
}
