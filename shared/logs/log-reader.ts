/**
 * Reads a stream back from its chunks: a byte range, the stream's end, or where its last lines start. Chunks may
 * overlap (a chunk uploaded again after a restart can be longer than the first upload at that offset; the bytes they
 * share are the same), so reading goes by coverage: each byte is taken from the first chunk that holds it. A gap ends
 * the stream as stored so far: the bytes after it are not stored yet.
 */
import { MAX_CHUNK_BYTES, type LogChunk, type LogStore, type LogStreamId } from './log-store.js';

/** A run of stored bytes with no overlap: `length` bytes of `chunk` from `skip`, at `offset` of the stream. */
interface Segment {
  chunk: LogChunk;
  offset: number;
  skip: number;
  length: number;
}

/** The stored bytes from `from` on, as segments in order, up to the first gap. */
async function* segments(store: LogStore, id: LogStreamId, from: number): AsyncGenerator<Segment> {
  let position = from;
  for await (const chunk of store.list(id, Math.max(0, from - MAX_CHUNK_BYTES + 1))) {
    if (chunk.offset > position) return;
    const end = chunk.offset + chunk.size;
    if (end <= position) continue;
    yield { chunk, offset: position, skip: position - chunk.offset, length: end - position };
    position = end;
  }
}

/** Up to `limit` bytes from `offset`, and the offset to read from next. */
export async function readRange(
  store: LogStore,
  id: LogStreamId,
  offset: number,
  limit: number,
): Promise<{ bytes: Uint8Array; next: number }> {
  const parts: Uint8Array[] = [];
  let next = offset;
  for await (const segment of segments(store, id, offset)) {
    const take = Math.min(segment.length, offset + limit - next);
    if (take <= 0) break;
    const bytes = await store.read(id, segment.chunk, segment.skip, take);
    parts.push(bytes);
    next += bytes.length;
    if (bytes.length < take) break;
  }
  return { bytes: concat(parts), next };
}

/** Where the stored stream ends (its size so far). */
export async function storedEnd(store: LogStore, id: LogStreamId): Promise<number> {
  let end = 0;
  for await (const segment of segments(store, id, 0)) end = segment.offset + segment.length;
  return end;
}

export interface LineTail {
  /** Where the last lines start. */
  start: number;
  /** Where the stream ends. */
  end: number;
  /** Whether the stream holds at least the lines asked for (the original's marker says so). */
  full: boolean;
}

/**
 * Where the last `lines` lines of the stored stream start. A line ends at a newline; an unterminated last line counts
 * as one. With `carriageReturns`, a lone CR ends a line too (as Python's universal newlines read it).
 */
export async function tailLines(
  store: LogStore,
  id: LogStreamId,
  lines: number,
  carriageReturns = false,
): Promise<LineTail> {
  const all: Segment[] = [];
  for await (const segment of segments(store, id, 0)) all.push(segment);
  const end = all.length ? all.at(-1)!.offset + all.at(-1)!.length : 0;
  let found = 0;
  // The byte after the one being looked at: a CR followed by LF is one line end, counted at the LF.
  let after = -1;
  for (let index = all.length - 1; index >= 0; index--) {
    const segment = all[index]!;
    const bytes = await store.read(id, segment.chunk, segment.skip, segment.length);
    for (let at = bytes.length - 1; at >= 0; at--) {
      const byte = bytes[at]!;
      const position = segment.offset + at;
      const ends = byte === 0x0a || (carriageReturns && byte === 0x0d && after !== 0x0a);
      after = byte;
      // The stream's own last line end closes its last line; it does not start another.
      if (!ends || position === end - 1) continue;
      if (++found === lines) return { start: position + 1, end, full: true };
    }
  }
  return { start: 0, end, full: end > 0 && found + 1 >= lines };
}

export function concat(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const whole = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let at = 0;
  for (const part of parts) {
    whole.set(part, at);
    at += part.length;
  }
  return whole;
}
