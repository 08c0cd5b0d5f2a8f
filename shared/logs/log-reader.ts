/**
 * Reads a stream back from its chunks: a byte range, the stream's end, or where its last lines start. Reading goes by
 * coverage, each byte taken from the first chunk that holds it, so that chunks overlapping (the shipper makes none,
 * but a store written by another version might hold some) could never repeat a byte. A gap ends the stream as stored
 * so far: the bytes after it are not stored yet.
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
async function* segments(
  store: LogStore,
  id: LogStreamId,
  from: number,
  atChunkStart = false,
): AsyncGenerator<Segment> {
  let position = from;
  for await (const chunk of chunksFrom(store, id, from, atChunkStart)) {
    if (chunk.offset > position) return;
    const end = chunk.offset + chunk.size;
    if (end <= position) continue;
    yield { chunk, offset: position, skip: position - chunk.offset, length: end - position };
    position = end;
  }
}

/**
 * The chunks that may hold byte `from` and those after it. Reads go on from where the last one ended, a chunk's start,
 * so the list starts there; only an offset inside a chunk needs the list to start a chunk's length earlier, which
 * for a stream of small chunks can be many names. Nothing listed at all, for a caller that knows `from` is where a
 * chunk starts (or will), needs no look back either.
 */
async function* chunksFrom(
  store: LogStore,
  id: LogStreamId,
  from: number,
  atChunkStart: boolean,
): AsyncGenerator<LogChunk> {
  const listed = store.list(id, from)[Symbol.asyncIterator]();
  const first = await listed.next();
  if (from === 0 || (first.done && atChunkStart) || (!first.done && first.value.offset === from)) {
    if (first.done) return;
    yield first.value;
    for (let next = await listed.next(); !next.done; next = await listed.next()) yield next.value;
    return;
  }
  await listed.return?.();
  yield* store.list(id, Math.max(0, from - MAX_CHUNK_BYTES + 1));
}

/**
 * Up to `limit` bytes from `offset`, the offset to read from next, and whether that is where a chunk starts (a
 * caller that knows it, as a follower does, saves the reader a look back: `atChunkStart`).
 */
export async function readRange(
  store: LogStore,
  id: LogStreamId,
  offset: number,
  limit: number,
  { atChunkStart = false }: { atChunkStart?: boolean } = {},
): Promise<{ bytes: Uint8Array; next: number; nextAtChunkStart: boolean }> {
  const parts: Uint8Array[] = [];
  let next = offset;
  let nextAtChunkStart = atChunkStart;
  for await (const segment of segments(store, id, offset, atChunkStart)) {
    const take = Math.min(segment.length, offset + limit - next);
    if (take <= 0) break;
    const bytes = await store.read(id, segment.chunk, segment.skip, take);
    parts.push(bytes);
    next += bytes.length;
    nextAtChunkStart = bytes.length === segment.length;
    if (bytes.length < take) break;
  }
  return { bytes: concat(parts), next, nextAtChunkStart };
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
 * as one. With `carriageReturns`, a lone CR ends a line too (as Python's universal newlines read it). No more than
 * `maxBytes` are looked at: lines that long, or output with no newlines at all, start the tail `maxBytes` from the end.
 */
export async function tailLines(
  store: LogStore,
  id: LogStreamId,
  lines: number,
  { carriageReturns = false, maxBytes = Infinity }: { carriageReturns?: boolean; maxBytes?: number } = {},
): Promise<LineTail> {
  const all: Segment[] = [];
  for await (const segment of segments(store, id, 0)) all.push(segment);
  const end = all.length ? all.at(-1)!.offset + all.at(-1)!.length : 0;
  let found = 0;
  // The byte after the one being looked at: a CR followed by LF is one line end, counted at the LF.
  let after = -1;
  const floor = Math.max(0, end - maxBytes);
  for (let index = all.length - 1; index >= 0; index--) {
    const segment = all[index]!;
    // Only the part of the segment at or after the floor.
    const from = Math.max(segment.offset, floor);
    if (from >= segment.offset + segment.length) break;
    const bytes = await store.read(
      id,
      segment.chunk,
      segment.skip + from - segment.offset,
      segment.offset + segment.length - from,
    );
    for (let at = bytes.length - 1; at >= 0; at--) {
      const byte = bytes[at]!;
      const position = from + at;
      const ends = byte === 0x0a || (carriageReturns && byte === 0x0d && after !== 0x0a);
      after = byte;
      // The stream's own last line end closes its last line; it does not start another.
      if (!ends || position === end - 1) continue;
      if (++found === lines) return { start: position + 1, end, full: true };
    }
  }
  if (floor > 0) return { start: floor, end, full: true };
  return { start: 0, end, full: end > 0 && found + 1 >= lines };
}

function concat(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const whole = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let at = 0;
  for (const part of parts) {
    whole.set(part, at);
    at += part.length;
  }
  return whole;
}
