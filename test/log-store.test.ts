/**
 * The log store contract, the same suite over each store: the filesystem, a real S3 server (s3rver), and an R2
 * bucket binding (Miniflare's R2, the implementation workerd runs locally). Then reading streams back.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Miniflare } from 'miniflare';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { originalJobLog } from '../api/jobs/original-job-log.js';
import type { JobRow } from '../shared/db/schema.js';
import { FileLogStore } from '../shared/logs/file-log-store.js';
import { archiveKey, type JobArchive } from '../shared/logs/job-archive.js';
import { readRange, storedEnd, tailLines } from '../shared/logs/log-reader.js';
import {
  LogStoreUnavailable,
  MAX_CHUNK_BYTES,
  type LogChunk,
  type LogStore,
  type LogStreamId,
} from '../shared/logs/log-store.js';
import { R2LogStore, type R2BucketBinding } from '../shared/logs/r2-log-store.js';
import { startTestS3, TEST_BUCKET, type TestS3 } from './helpers/test-s3.js';

const text = (value: string) => new TextEncoder().encode(value);
const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

async function chunks(store: LogStore, id: LogStreamId, from?: number): Promise<LogChunk[]> {
  const all: LogChunk[] = [];
  for await (const chunk of store.list(id, from)) all.push(chunk);
  return all;
}

let nextJob = 1;
const stream = (stream: 'stdout' | 'stderr' = 'stdout', attempt = 1): LogStreamId => ({
  jobId: nextJob++,
  attempt,
  stream,
});

const scratch = mkdtempSync(join(tmpdir(), 'conductor-log-store-'));
let s3: TestS3;
let miniflare: Miniflare;
let r2: R2BucketBinding;

beforeAll(async () => {
  s3 = await startTestS3();
  miniflare = new Miniflare({
    modules: true,
    script: 'export default { fetch: () => new Response(null, { status: 404 }) }',
    r2Buckets: ['LOGS'],
  });
  r2 = (await miniflare.getR2Bucket('LOGS')) as unknown as R2BucketBinding;
}, 60_000);

afterAll(async () => {
  await s3?.close();
  await miniflare?.dispose();
  rmSync(scratch, { recursive: true, force: true });
});

/**
 * Each store, opened with its own page of names per list request unless `listPageSize` says one; and the object
 * named `key` read straight from where the store keeps it (undefined when there is none).
 */
const stores: [
  string,
  (listPageSize?: number) => LogStore & JobArchive,
  (key: string) => Promise<string | undefined>,
][] = [
  [
    'filesystem',
    () => new FileLogStore(join(scratch, 'fs')),
    (key) => readFile(join(scratch, 'fs', key), 'utf8').catch(() => undefined),
  ],
  [
    'S3 (s3rver)',
    (listPageSize) => s3.store('', listPageSize),
    async (key) => {
      const answer = await fetch(`${s3.endpoint}/${TEST_BUCKET}/${key}`);
      return answer.ok ? answer.text() : undefined;
    },
  ],
  [
    'R2 binding (Miniflare)',
    (listPageSize) => new R2LogStore(r2, '', listPageSize),
    async (key) => {
      const body = await r2.get(key);
      return body ? decode(new Uint8Array(await body.arrayBuffer())) : undefined;
    },
  ],
];

describe.each(stores)('log store: %s', (_name, open, readObject) => {
  it("keeps each cluster's streams apart, and apart from the keys from before clusters", async () => {
    const store = open();
    const id = stream();
    const [a, b] = [crypto.randomUUID(), crypto.randomUUID()];
    await store.put({ ...id, cluster: a }, 0, text('cluster a'));
    await store.put({ ...id, cluster: b }, 0, text('cluster b!'));
    await store.put(id, 0, text('before clusters'));
    expect(await chunks(store, { ...id, cluster: a })).toEqual([{ offset: 0, size: 9 }]);
    expect(decode(await store.read({ ...id, cluster: b }, { offset: 0, size: 10 }))).toBe('cluster b!');
    expect(decode(await store.read(id, { offset: 0, size: 15 }))).toBe('before clusters');
  });

  it('stores chunks by offset and lists them in order of offset, not of name length', async () => {
    const store = open();
    const id = stream();
    // Put out of order; 100 sorts before 9 as text, not as an offset.
    await store.put(id, 9, text('tenth byte on'));
    await store.put(id, 0, text('012345678'));
    await store.put(id, 100, text('far'));
    expect(await chunks(store, id)).toEqual([
      { offset: 0, size: 9 },
      { offset: 9, size: 13 },
      { offset: 100, size: 3 },
    ]);
    expect(await chunks(store, id, 9)).toEqual([
      { offset: 9, size: 13 },
      { offset: 100, size: 3 },
    ]);
    expect(await chunks(store, id, 10)).toEqual([{ offset: 100, size: 3 }]);
  });

  it('reads a chunk whole or a range of it, bytes exact', async () => {
    const store = open();
    const id = stream();
    const every = Uint8Array.from({ length: 512 }, (_, index) => index % 256);
    await store.put(id, 0, every);
    const [chunk] = await chunks(store, id);
    expect(await store.read(id, chunk!)).toEqual(every);
    expect(await store.read(id, chunk!, 250, 10)).toEqual(every.subarray(250, 260));
    expect(await store.read(id, chunk!, 500)).toEqual(every.subarray(500));
  });

  it('a retried upload rewrites the same name: one chunk, the same bytes', async () => {
    const store = open();
    const id = stream();
    await store.put(id, 0, text('same'));
    await store.put(id, 0, text('same'));
    const listed = await chunks(store, id);
    expect(listed).toEqual([{ offset: 0, size: 4 }]);
    expect(decode(await store.read(id, listed[0]!))).toBe('same');
  });

  it('keeps jobs, attempts and streams apart', async () => {
    const store = open();
    const out = stream('stdout', 1);
    const err = { ...out, stream: 'stderr' as const };
    const second = { ...out, attempt: 2 };
    await store.put(out, 0, text('out'));
    await store.put(err, 0, text('error'));
    await store.put(second, 0, text('again'));
    expect(await chunks(store, out)).toEqual([{ offset: 0, size: 3 }]);
    expect(await chunks(store, err)).toEqual([{ offset: 0, size: 5 }]);
    expect(await chunks(store, second)).toEqual([{ offset: 0, size: 5 }]);
    expect(await chunks(store, stream())).toEqual([]);
  });

  it('lists past one page of names, from the start and from an offset (pages of 10 here; 1,000 by default)', async () => {
    const store = open(10);
    const id = stream();
    const count = 25;
    await Promise.all(Array.from({ length: count }, (_, index) => store.put(id, index * 2, text('ab'))));
    const listed = await chunks(store, id);
    expect(listed).toHaveLength(count);
    expect(listed.every((chunk, index) => chunk.offset === index * 2 && chunk.size === 2)).toBe(true);
    // The chunks from offset 24 (the 13th) on: the list starts on the second page and reads on into the third.
    expect((await chunks(store, id, 24)).map((chunk) => chunk.offset)).toEqual(
      Array.from({ length: count - 12 }, (_, index) => (index + 12) * 2),
    );
    expect(await storedEnd(store, id)).toBe(count * 2);
  });

  it("deletes every chunk of a job's attempts and streams, past a page of names, and nothing of another job", async () => {
    const store = open(10);
    const cluster = crypto.randomUUID();
    const out = { ...stream('stdout', 1), cluster };
    const kept = { ...stream('stdout', 1), cluster };
    const before = { ...out, cluster: undefined };
    await Promise.all(Array.from({ length: 15 }, (_, index) => store.put(out, index, text('a'))));
    await store.put({ ...out, stream: 'stderr' }, 0, text('error'));
    await store.put({ ...out, attempt: 2 }, 0, text('again'));
    await store.put(kept, 0, text('kept'));
    await store.put(before, 0, text('before clusters'));
    expect(await store.deleteJob(out)).toBe(17);
    for (const id of [out, { ...out, stream: 'stderr' as const }, { ...out, attempt: 2 }]) {
      expect(await chunks(store, id)).toEqual([]);
    }
    expect(await chunks(store, kept)).toEqual([{ offset: 0, size: 4 }]);
    expect(await chunks(store, before)).toEqual([{ offset: 0, size: 15 }]);
    // Deleted already, or never stored: nothing to do.
    expect(await store.deleteJob(out)).toBe(0);
    expect(await store.deleteJob(before)).toBe(1);
    expect(await chunks(store, before)).toEqual([]);
  });

  it("archives a job's record under its cluster, rewrites it whole, and keeps it when the job's output is deleted", async () => {
    const store = open();
    const job = { cluster: crypto.randomUUID(), jobId: nextJob++ };
    await store.put({ ...job, attempt: 1, stream: 'stdout' }, 0, text('out'));
    await store.archiveJob(job, text('{"first":true}'));
    await store.archiveJob(job, text('{"again":1}'));
    expect(await readObject(archiveKey(job))).toBe('{"again":1}');
    expect(await readObject(archiveKey({ ...job, cluster: crypto.randomUUID() }))).toBeUndefined();
    expect(await store.deleteJob(job)).toBe(1);
    expect(await readObject(archiveKey(job))).toBe('{"again":1}');
  });
});

describe('the S3 store when the server is away', () => {
  it('fails with LogStoreUnavailable, at once, and works again once the server is back', async () => {
    const store = s3.store();
    const id = stream();
    await s3.down();
    try {
      await expect(store.put(id, 0, text('x'))).rejects.toBeInstanceOf(LogStoreUnavailable);
      await expect(chunks(store, id)).rejects.toBeInstanceOf(LogStoreUnavailable);
    } finally {
      await s3.up();
    }
    await store.put(id, 0, text('x'));
    expect(await chunks(store, id)).toEqual([{ offset: 0, size: 1 }]);
  });

  it('keeps installations apart by prefix', async () => {
    const id = stream();
    await s3.store('one/').put(id, 0, text('first'));
    await s3.store('two/').put(id, 0, text('second one'));
    expect(await chunks(s3.store('one/'), id)).toEqual([{ offset: 0, size: 5 }]);
    expect(await chunks(s3.store('two/'), id)).toEqual([{ offset: 0, size: 10 }]);
  });
});

describe('reading a stream back', () => {
  const store = new FileLogStore(join(scratch, 'reader'));

  it('reads ranges across chunks, taking each byte once where chunks overlap, and stops at a gap', async () => {
    const id = stream();
    // A restart uploaded offset 4 again, longer: the bytes the two share are the same.
    await store.put(id, 0, text('0123'));
    await store.put(id, 4, text('45'));
    await store.put(id, 4, text('456789'));
    await store.put(id, 6, text('6789ab'));
    await store.put(id, 20, text('after a gap'));
    expect(decode((await readRange(store, id, 0, 100)).bytes)).toBe('0123456789ab');
    expect(await readRange(store, id, 0, 100)).toMatchObject({ next: 12 });
    expect(decode((await readRange(store, id, 3, 5)).bytes)).toBe('34567');
    expect((await readRange(store, id, 3, 5)).next).toBe(8);
    // At the end of what is stored: nothing, and the same offset to come back to.
    expect(await readRange(store, id, 12, 10)).toMatchObject({ bytes: new Uint8Array(0), next: 12 });
    expect(await storedEnd(store, id)).toBe(12);
  });

  it('finds the chunk holding an offset far into a stream without reading from the start', async () => {
    const id = stream();
    const big = new Uint8Array(MAX_CHUNK_BYTES).fill(0x61);
    await store.put(id, 0, big);
    await store.put(id, MAX_CHUNK_BYTES, text('tail'));
    const { bytes, next } = await readRange(store, id, MAX_CHUNK_BYTES - 2, 10);
    expect(decode(bytes)).toBe('aatail');
    expect(next).toBe(MAX_CHUNK_BYTES + 4);
  });

  it('lists from the offset asked for when a chunk starts there, and looks back only for an offset inside one', async () => {
    const id = stream();
    for (let offset = 0; offset < 40; offset += 4) await store.put(id, offset, text('abc\n'));
    const listedFrom: number[] = [];
    const counting: LogStore = {
      put: (...args) => store.put(...args),
      read: (...args) => store.read(...args),
      deleteJob: (job) => store.deleteJob(job),
      list: (listed, from) => {
        listedFrom.push(from ?? 0);
        return store.list(listed, from);
      },
    };
    expect(decode((await readRange(counting, id, 8, 4)).bytes)).toBe('abc\n');
    expect(listedFrom).toEqual([8]);
    listedFrom.length = 0;
    expect(decode((await readRange(counting, id, 9, 3)).bytes)).toBe('bc\n');
    expect(listedFrom).toEqual([9, 0]);
    // A follower at the end, which knows it is where the next chunk will start.
    listedFrom.length = 0;
    const atEnd = await readRange(counting, id, 40, 10, { atChunkStart: true });
    expect(atEnd).toMatchObject({ next: 40, nextAtChunkStart: true });
    expect(listedFrom).toEqual([40]);
  });

  it('finds where the last N lines start, across chunks', async () => {
    const id = stream();
    await store.put(id, 0, text('one\ntw'));
    await store.put(id, 6, text('o\nthree\n'));
    expect(await tailLines(store, id, 1)).toEqual({ start: 8, end: 14, full: true });
    expect(await tailLines(store, id, 2)).toEqual({ start: 4, end: 14, full: true });
    expect(await tailLines(store, id, 3)).toEqual({ start: 0, end: 14, full: true });
    expect(await tailLines(store, id, 4)).toEqual({ start: 0, end: 14, full: false });
    const open = stream();
    await store.put(open, 0, text('a\nb\nunfinished'));
    expect(await tailLines(store, open, 1)).toEqual({ start: 4, end: 14, full: true });
    expect(await tailLines(store, stream(), 5)).toEqual({ start: 0, end: 0, full: false });
    // Output without newlines is looked at only so far back.
    const flat = stream();
    await store.put(flat, 0, new Uint8Array(1000).fill(0x61));
    expect(await tailLines(store, flat, 3, { maxBytes: 100 })).toEqual({ start: 900, end: 1000, full: true });
  });
});

describe("the original's job_log", () => {
  const store = new FileLogStore(join(scratch, 'original'));
  const cluster = crypto.randomUUID();
  const job = (id: number, attempt = 1) => ({ id, attempt, legacyLogKeys: false }) as JobRow;

  it('is the whole output below 1 MiB, as text: bad UTF-8 dropped, CRLF and CR read as LF', async () => {
    const id = { ...stream(), cluster };
    await store.put(id, 0, Uint8Array.from([...text('héllo\r\nbar\rbaz'), 0xff, ...text('!\n')]));
    expect(await originalJobLog(store, job(id.jobId), cluster)).toEqual({ stdout: 'héllo\nbar\nbaz!\n', stderr: '' });
  });

  it("from 1 MiB on, is the last 1,000 lines after the original's marker", async () => {
    const id = { ...stream(), cluster };
    const lines = Array.from({ length: 20_000 }, (_, index) => `line ${index} ${'x'.repeat(60)}\n`);
    const whole = text(lines.join(''));
    expect(whole.length).toBeGreaterThan(2 ** 20);
    for (let offset = 0; offset < whole.length; offset += 300_000) {
      await store.put(id, offset, whole.subarray(offset, offset + 300_000));
    }
    const { stdout } = await originalJobLog(store, job(id.jobId), cluster);
    expect(stdout).toBe(`...（仅展示最后 1000 行）...\n${lines.slice(-1000).join('')}`);
  });

  it('is empty for a job that never started', async () => {
    expect(await originalJobLog(store, job(nextJob++, 0), cluster)).toEqual({ stdout: '', stderr: '' });
  });
});
