/**
 * The daemon's log shipper against a real filesystem store, through a store wrapper that records every upload and
 * can lose an upload's answer after the chunk was stored, or never answer (the daemon dies mid-upload).
 */
import {
  appendFileSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FileLogStore } from '../shared/logs/file-log-store.js';
import { readRange } from '../shared/logs/log-reader.js';
import {
  LogStoreUnavailable,
  type JobOutputId,
  type LogChunk,
  type LogStore,
  type LogStreamId,
} from '../shared/logs/log-store.js';
import { LogShipper, ShipperStopped } from '../worker-node/log-shipper.js';
import { waitUntil } from './helpers/wait-for.js';
import { silentLogger } from '../shared/log/logger.js';
import { messageLogger } from './helpers/message-logger.js';

class RecordingStore implements LogStore {
  readonly puts: { offset: number; bytes: string }[] = [];
  /** What the next upload does after storing its chunk: answer, fail (the answer is lost), or never answer. */
  next: 'answer' | 'lose-answer' | 'hang' = 'answer';
  /** Away: uploads fail, storing nothing. */
  down = false;
  /** Uploads refused while away. */
  refused = 0;

  constructor(private readonly inner: LogStore) {}

  async put(id: LogStreamId, offset: number, bytes: Uint8Array): Promise<void> {
    if (this.down) {
      this.refused++;
      throw new LogStoreUnavailable('away');
    }
    await this.inner.put(id, offset, bytes);
    this.puts.push({ offset, bytes: Buffer.from(bytes).toString() });
    const next = this.next;
    this.next = 'answer';
    if (next === 'lose-answer') throw new LogStoreUnavailable('the answer was lost');
    if (next === 'hang') await new Promise(() => {});
  }

  list(id: LogStreamId, from?: number): AsyncIterable<LogChunk> {
    return this.inner.list(id, from);
  }

  read(id: LogStreamId, chunk: LogChunk, skip?: number, length?: number): Promise<Uint8Array> {
    return this.inner.read(id, chunk, skip, length);
  }

  deleteJob(job: JobOutputId): Promise<number> {
    return this.inner.deleteJob(job);
  }
}

const dirs: string[] = [];
const shippers: LogShipper[] = [];
afterEach(async () => {
  await Promise.all(shippers.splice(0).map((shipper) => shipper.stop()));
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function setUp() {
  const dir = mkdtempSync(join(tmpdir(), 'conductor-shipper-'));
  dirs.push(dir);
  const store = new RecordingStore(new FileLogStore(join(dir, 'store')));
  const out = join(dir, 'job.out');
  const shipper = async () => {
    const made = new LogShipper({ store, dir: join(dir, 'shipped'), flushMs: 20, chunkBytes: 4096, log: silentLogger });
    shippers.push(made);
    await made.start();
    made.track('7-1', { jobId: 7, attempt: 1 }, [{ stream: 'stdout', path: out, base: 0 }]);
    return made;
  };
  const stored = async () =>
    Buffer.from((await readRange(store, { jobId: 7, attempt: 1, stream: 'stdout' }, 0, 1 << 20)).bytes).toString();
  /** Every name uploaded more than once got the same bytes each time. */
  const expectSameBytesPerName = () => {
    const byOffset = new Map<number, Set<string>>();
    for (const put of store.puts) byOffset.set(put.offset, (byOffset.get(put.offset) ?? new Set()).add(put.bytes));
    expect([...byOffset.values()].every((versions) => versions.size === 1)).toBe(true);
  };
  return { store, out, shipper, stored, expectSameBytesPerName };
}

describe('the log shipper', () => {
  it('uploads a chunk whose answer was lost again just as it was, though the file grew meanwhile', async () => {
    const { store, out, shipper, stored, expectSameBytesPerName } = setUp();
    writeFileSync(out, 'first line\n');
    store.next = 'lose-answer';
    const shipping = await shipper();
    await waitUntil('the first upload', () => store.puts.length === 1);
    appendFileSync(out, 'second line\n');
    await shipping.finish('7-1');
    expect(store.puts.map((put) => put.offset)).toEqual([0, 0, 11]);
    expectSameBytesPerName();
    expect(await stored()).toBe(readFileSync(out, 'utf8'));
  });

  it('after a crash in the middle of an upload, the restarted shipper uploads that chunk again just so', async () => {
    const { store, out, shipper, stored, expectSameBytesPerName } = setUp();
    writeFileSync(out, 'a'.repeat(1000));
    store.next = 'hang';
    const crashed = await shipper();
    // The first chunk (1000 bytes) is stored; its upload never returns: the daemon dies there.
    await waitUntil('the first upload', () => store.puts.length === 1);
    shippers.length = 0;
    // Its timer goes; its upload never will (a stop would wait for it).
    void crashed.stop();
    appendFileSync(out, 'b'.repeat(3000));
    const restarted = await shipper();
    await restarted.finish('7-1');
    expect(store.puts.map((put) => [put.offset, put.bytes.length])).toEqual([
      [0, 1000],
      [0, 1000],
      [1000, 3000],
    ]);
    expectSameBytesPerName();
    expect(await stored()).toBe(readFileSync(out, 'utf8'));
  });

  it('ends a run where its file ended when finish was called: what another writer appends later is not its own', async () => {
    const { store, out, shipper, stored } = setUp();
    writeFileSync(out, 'mine\n');
    const shipping = await shipper();
    await shipping.finish('7-1');
    appendFileSync(out, 'a later job writing to the same file\n');
    // A window for what must not happen (another upload); a busy machine only makes it see less.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await stored()).toBe('mine\n');
    expect(store.puts).toHaveLength(1);
  });

  it('never overwrites a stored chunk with fewer bytes when the file was cut after an upload whose answer was lost', async () => {
    const { store, out, shipper, stored } = setUp();
    writeFileSync(out, 'hello world\n');
    store.next = 'lose-answer';
    const shipping = await shipper();
    await waitUntil('the first upload', () => store.puts.length === 1);
    // The job cuts its own output file (`> out`, then a little more) before the retry.
    writeFileSync(out, 'hel');
    await shipping.finish('7-1');
    expect(store.puts).toHaveLength(1);
    expect(await stored()).toBe('hello world\n');
  });

  it('ends a run whose output file was deleted before the rest of it was stored, instead of retrying for ever', async () => {
    const { store, out, stored } = setUp();
    const lines: string[] = [];
    writeFileSync(out, 'kept\n');
    const shipping = new LogShipper({
      store,
      dir: join(out, '..', 'shipped'),
      flushMs: 20,
      chunkBytes: 4096,
      log: messageLogger((line) => lines.push(line)),
    });
    shippers.push(shipping);
    await shipping.start();
    shipping.track('7-1', { jobId: 7, attempt: 1 }, [{ stream: 'stdout', path: out, base: 0 }]);
    await waitUntil('the first upload', () => store.puts.length === 1);
    store.down = true;
    appendFileSync(out, 'lost\n');
    const finishing = shipping.finish('7-1');
    await waitUntil('an upload of the rest refused', () => store.refused > 0);
    rmSync(out);
    store.down = false;
    await finishing;
    expect(await stored()).toBe('kept\n');
    expect(lines.join('\n')).toMatch(/stdout ends at 5 bytes: its output file is gone/);
  });

  it('holds finish until the store answers, and gives up only when stopped', async () => {
    const { out } = setUp();
    writeFileSync(out, 'x');
    // A directory that cannot be made: its parent is a file.
    const failing = new FileLogStore(join(out, 'store'));
    const shipping = new LogShipper({
      store: failing,
      dir: join(out, '..', 'j'),
      flushMs: 20,
      chunkBytes: 4096,
      log: silentLogger,
    });
    shippers.push(shipping);
    await shipping.start();
    shipping.track('7-1', { jobId: 7, attempt: 1 }, [{ stream: 'stdout', path: out, base: 0 }]);
    const finishing = shipping.finish('7-1');
    // A window for what must not happen (finish answering); a busy machine only makes it see less.
    const early = await Promise.race([
      finishing.then(() => 'finished'),
      new Promise((r) => setTimeout(r, 600, 'waiting')),
    ]);
    expect(early).toBe('waiting');
    await shipping.stop();
    await expect(finishing).rejects.toBeInstanceOf(ShipperStopped);
  });
});

describe("the log shipper ships only the file the job opened (its owner controls the path's directory)", () => {
  async function replaced(replace: (out: string, dir: string) => void) {
    const dir = mkdtempSync(join(tmpdir(), 'conductor-shipper-'));
    dirs.push(dir);
    const store = new FileLogStore(join(dir, 'store'));
    const out = join(dir, 'job.out');
    writeFileSync(out, 'mine\n');
    const { dev, ino } = statSync(out, { bigint: true });
    const lines: string[] = [];
    const shipper = new LogShipper({
      store,
      dir: join(dir, 'shipped'),
      flushMs: 20,
      chunkBytes: 4096,
      log: messageLogger((line) => lines.push(line)),
    });
    shippers.push(shipper);
    await shipper.start();
    replace(out, dir);
    shipper.track('7-1', { jobId: 7, attempt: 1 }, [{ stream: 'stdout', path: out, base: 0, id: `${dev}:${ino}` }]);
    await shipper.finish('7-1');
    const stored = await readRange(store, { jobId: 7, attempt: 1, stream: 'stdout' }, 0, 1 << 20);
    return { stored: Buffer.from(stored.bytes).toString(), lines };
  }

  it('ends shipping, with the reason, when another file was put in its place', async () => {
    const { stored, lines } = await replaced((out, dir) => {
      writeFileSync(join(dir, 'other'), 'another file of the owner\n');
      renameSync(join(dir, 'other'), out);
    });
    expect(stored).toBe('');
    expect(lines.join('\n')).toMatch(/stdout ends at 0 bytes: its output file was replaced/);
  });

  it('never follows a symbolic link put in its place (to a file only the daemon may read)', async () => {
    const { stored, lines } = await replaced((out, dir) => {
      writeFileSync(join(dir, 'secret'), 'node token\n', { mode: 0o600 });
      rmSync(out);
      symlinkSync(join(dir, 'secret'), out);
    });
    expect(stored).toBe('');
    expect(lines.join('\n')).toMatch(/its output file was replaced/);
  });
});
