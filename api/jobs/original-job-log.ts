/**
 * The original API's `job_log`: what its log reader made of a job's output files, now read from the log store.
 */
import type { JobRow } from '../../shared/db/schema.js';
import { readRange, storedEnd, tailLines } from '../../shared/logs/log-reader.js';
import type { LogStore, LogStreamId } from '../../shared/logs/log-store.js';
import { streamOf } from './job-output.js';

// The original read the whole file below 1 MiB, else its last 1,000 lines after this marker (when there were that
// many). Lines are not bounded there; here the tail is at most 8 MiB, so that one query cannot take the API's memory.
const ORIGINAL_WHOLE_BELOW = 2 ** 20;
const ORIGINAL_TAIL_LINES = 1000;
const TAIL_MAX_BYTES = 8 * 2 ** 20;
const ORIGINAL_MARKER = `...（仅展示最后 ${ORIGINAL_TAIL_LINES} 行）...\n`;

/**
 * The original `job_log` of the job's latest attempt: what its log reader made of the output files.
 * @param cluster this API's cluster id, under which the job's output is stored
 */
export async function originalJobLog(
  store: LogStore,
  job: JobRow,
  cluster: string,
): Promise<{ stdout: string; stderr: string }> {
  if (job.attempt === 0) return { stdout: '', stderr: '' };
  const [stdout, stderr] = await Promise.all(
    (['stdout', 'stderr'] as const).map(async (stream) =>
      originalText(store, await streamOf(store, job, stream, cluster)),
    ),
  );
  return { stdout: stdout!, stderr: stderr! };
}

async function originalText(store: LogStore, id: LogStreamId): Promise<string> {
  const end = await storedEnd(store, id);
  if (end < ORIGINAL_WHOLE_BELOW) return pythonText((await readRange(store, id, 0, end)).bytes);
  const tail = await tailLines(store, id, ORIGINAL_TAIL_LINES, { carriageReturns: true, maxBytes: TAIL_MAX_BYTES });
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
