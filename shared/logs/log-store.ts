/**
 * Where job output is kept (docs/architecture.md, step 7 of a job's journey). Object stores cannot append, so each
 * stream of each attempt of a job is a sequence of chunk objects named by the byte offset they start at, each starting
 * where the one before ended. A chunk uploaded again (its answer lost, or the daemon restarted) is the same name with
 * the same bytes, so rewriting it is harmless.
 */
export type LogStream = 'stdout' | 'stderr';
export const LOG_STREAMS: readonly LogStream[] = ['stdout', 'stderr'];

/** One stream of one attempt of a job. */
export interface LogStreamId {
  /**
   * The cluster whose job it is (its database's id, migration 0013): every stream of a cluster is under it, so that
   * clusters sharing a directory or a bucket never meet. Absent only for output stored before cluster ids, under the
   * old keys (a job's `legacy_log_keys`, api/jobs/job-output.ts).
   */
  cluster?: string;
  jobId: number;
  attempt: number;
  stream: LogStream;
}

/** A stored chunk: the bytes [offset, offset + size) of its stream. */
export interface LogChunk {
  offset: number;
  size: number;
}

/**
 * No chunk is ever larger than this: a reader looking for the chunk that holds byte N need only list the chunks
 * starting after N - MAX_CHUNK_BYTES.
 */
export const MAX_CHUNK_BYTES = 8 * 2 ** 20;

export interface LogStore {
  /** Stores the bytes at this offset of the stream; a retry with the same offset and bytes is harmless. */
  put(id: LogStreamId, offset: number, bytes: Uint8Array): Promise<void>;
  /** The stream's chunks that start at `from` or later, in order of offset. */
  list(id: LogStreamId, from?: number): AsyncIterable<LogChunk>;
  /** `length` bytes of a chunk, `skip` bytes into it (the whole chunk by default). */
  read(id: LogStreamId, chunk: LogChunk, skip?: number, length?: number): Promise<Uint8Array>;
  /**
   * Deletes every chunk of every attempt and stream of the job (its retention ended, api/jobs/purge-jobs.ts); a job
   * with none stored, or deleted already, is no fault. Answers how many chunks it deleted.
   * @throws LogStoreUnavailable when the store does not answer; what was deleted stays deleted, a retry deletes the rest
   */
  deleteJob(job: JobOutputId): Promise<number>;
}

/** All the output of one job: its cluster (absent for the keys from before clusters) and its id. */
export type JobOutputId = Pick<LogStreamId, 'cluster' | 'jobId'>;

/** The store did not answer, or answered with a fault: worth retrying later. */
export class LogStoreUnavailable extends Error {
  override name = 'LogStoreUnavailable';
}

// Offsets are padded so that the names sort as the numbers do: object stores list in name order.
const OFFSET_DIGITS = 15;

/** The stream's folder: `{cluster}/jobs/{id}/{attempt}/{stream}/` (`jobs/…` alone for output from before clusters). */
export const streamPrefix = (id: LogStreamId) => `${jobPrefix(id)}${id.attempt}/${id.stream}/`;

/** The job's folder, `{cluster}/jobs/{id}/`, holding every attempt's streams. */
export const jobPrefix = (id: JobOutputId) => `${id.cluster === undefined ? '' : `${id.cluster}/`}jobs/${id.jobId}/`;

export const chunkName = (offset: number) => String(offset).padStart(OFFSET_DIGITS, '0');

/** The offset a chunk's name stands for, or undefined for a name that is not a chunk's. */
export function chunkOffset(name: string): number | undefined {
  return /^\d{15}$/.test(name) ? Number(name) : undefined;
}

/** The name an object store's listing starts after, so that it lists the chunks from `from` on. */
export const listStartAfter = (folder: string, from: number) => (from > 0 ? folder + chunkName(from - 1) : undefined);

/** A listed object of a stream's folder as a chunk, if it is one at `from` or later. */
export function listedChunk(folder: string, key: string, size: number, from: number): LogChunk | undefined {
  const offset = chunkOffset(key.slice(folder.length));
  return offset !== undefined && offset >= from ? { offset, size } : undefined;
}
