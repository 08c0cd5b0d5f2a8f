/**
 * Ships each run's stdout and stderr files to the log store as they grow (docs/architecture.md, step 7 of a job's
 * journey): every `flushMs`, what a file gained goes up in chunks of at most `chunkBytes`, each named by its offset in
 * the run's output. Each chunk is journaled (its offset and length) before it is uploaded, so the same chunk is
 * uploaded again, to the same name with the same bytes, after a failed upload or a crash; and a restarted daemon goes
 * on from there. Chunks never overlap. An output file may hold more than the run's output (an earlier attempt's or
 * another job's, with open_mode append), so a run's output starts where its file was when the job opened it (0 once
 * emptied: truncate), and ends where it was when its processes were found gone: that end is journaled too, so what
 * another writer appends later never joins the run's stream. A file for both streams is tracked once, as stdout. A store
 * that fails is retried with backoff for as long as it takes; the job itself never waits for it.
 */
import { constants, lstat as lstatCallback } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { promisify } from 'node:util';
import type { LogStore, LogStream, LogStreamId } from '../shared/logs/log-store.js';
import { Backoff } from '../shared/backoff.js';
import { Journal } from './journal.js';
import { errorFields, type Logger } from '../shared/log/logger.js';

export interface OutputFile {
  stream: LogStream;
  path: string;
  /** The file's size when the job opened it (launcher's word; at admission for older runs): its output starts there. */
  base: number;
  /**
   * The file the job opened, as `dev:ino` (its wrapper says): the job's owner controls the path, and may put another
   * file (or a link to one of the daemon's) in its place; only this one is shipped. Absent for runs of older daemons.
   */
  id?: string;
}

export interface LogShipperOptions {
  store: LogStore;
  /** The shipper's journal: shipped offsets by run. */
  dir: string;
  flushMs: number;
  chunkBytes: number;
  /**
   * The spool bound, in bytes: the most output of the node's runs (written to their files, not yet stored) it takes
   * on. Past it `spoolFull` is true (the daemon claims no new job) until the store has taken enough. Undefined: no bound.
   */
  spoolBytes?: number;
  /** The spool went past its bound (true), or back under it (false). */
  spoolChanged?(full: boolean): void;
  log: Logger;
}

/** finish() gave up because the daemon is stopping: the run's output is shipped after its restart. */
export class ShipperStopped extends Error {}

/** Bytes per stream, counted from the run's start in its file. */
type Sizes = Partial<Record<LogStream, number>>;

interface JournalEntry {
  key: string;
  /** Stored for sure. */
  shipped: Sizes;
  /** The length of the chunk being uploaded at `shipped`: stored perhaps, and uploaded again to be sure. */
  uploading?: Sizes;
  /** Set once the run's processes are gone: its output ends there. */
  end?: Sizes;
}

interface Tracked {
  key: string;
  jobId: number;
  attempt: number;
  /** The cluster id its output is stored under; undefined: the old keys (a run confirmed by an older API). */
  cluster?: string;
  files: OutputFile[];
  shipped: Sizes;
  uploading: Sizes;
  end?: Sizes;
  /** Its output as last measured, per stream: what is not shipped of it is the run's part of the spool. */
  seen: Sizes;
  /** The pass under way, if any: passes over one run never overlap. */
  pass?: Promise<boolean>;
  /** While the store fails: when to try again, and the failures in a row that put it off. */
  retryAt: number;
  retry: Backoff;
  failing: boolean;
  /** Passes in a row that found nothing new put the next one off: a quiet run is looked at less often. */
  quiet: Backoff;
  nextPassAt: number;
  /** finish() has begun: the timer leaves the run alone, so nothing is shipped past the end finish fixes. */
  finishing: boolean;
  /** It has an entry in the journal, to be removed when it is forgotten. */
  journaled: boolean;
}

const RETRY = { minMs: 250, maxMs: 5000 };
// A run that printed nothing lately is looked at every flush, then less often, down to once a second: 200 quiet jobs
// cost 400 stats a second instead of 1,600.
const QUIET_PASS_MAX_MS = 1000;
// The callback form: in this daemon's hot loop it costs half what fs/promises' stat does, and unlike statSync it never
// blocks the daemon on a hung network filesystem. lstat: a link the job put there is not followed.
const lstat = promisify(lstatCallback);
// Never through a link, and never blocked on a FIFO put in the file's place.
const OPEN_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

export class LogShipper {
  readonly #journal: Journal<JournalEntry>;
  readonly #runs = new Map<string, Tracked>();
  /** Offsets journaled before a restart, until their run is tracked again. */
  readonly #recovered = new Map<string, JournalEntry>();
  #timer: NodeJS.Timeout | undefined;
  #stopping = false;
  #spoolFull = false;
  /** Resolves when stop() is called: a wait for a failing store ends there. */
  readonly #stopped: Promise<void>;
  #stop!: () => void;

  constructor(private readonly options: LogShipperOptions) {
    this.#journal = new Journal(options.dir);
    this.#stopped = new Promise((done) => (this.#stop = done));
  }

  async start(): Promise<void> {
    for (const entry of await this.#journal.readAll()) this.#recovered.set(entry.key, entry);
    this.#timer = setInterval(() => this.#tick(), this.options.flushMs);
    this.#timer.unref();
  }

  /**
   * Ships this run's output from now on (again, after a restart: from its journaled offsets), under its cluster's
   * keys (`run.cluster`; without one, the old keys).
   */
  track(key: string, run: { jobId: number; attempt: number; cluster?: string }, files: OutputFile[]): void {
    if (this.#runs.has(key)) return;
    const recovered = this.#recovered.get(key);
    this.#recovered.delete(key);
    this.#runs.set(key, {
      key,
      jobId: run.jobId,
      attempt: run.attempt,
      ...(run.cluster === undefined ? {} : { cluster: run.cluster }),
      files,
      shipped: recovered?.shipped ?? {},
      uploading: recovered?.uploading ?? {},
      ...(recovered?.end ? { end: recovered.end } : {}),
      retryAt: 0,
      retry: new Backoff(RETRY),
      failing: false,
      // The first quiet pass puts the next off by two flushes.
      quiet: new Backoff({ minMs: this.options.flushMs * 2, maxMs: QUIET_PASS_MAX_MS }),
      nextPassAt: 0,
      finishing: false,
      journaled: recovered !== undefined,
      seen: {},
    });
  }

  /** Output of the node's runs written and not stored yet, as last measured: bytes. */
  unshipped(): number {
    let bytes = 0;
    for (const run of this.#runs.values()) {
      for (const file of run.files) {
        bytes += Math.max(0, (run.seen[file.stream] ?? 0) - (run.shipped[file.stream] ?? 0));
      }
    }
    return bytes;
  }

  /** Past the spool bound: the node takes on no new output (no new job) until the store has taken enough. */
  get spoolFull(): boolean {
    return this.#spoolFull;
  }

  /** Forgets journaled offsets of runs that did not come back (their run was forgotten just before a crash). */
  async dropUntracked(): Promise<void> {
    for (const key of this.#recovered.keys()) await this.#journal.remove(key);
    this.#recovered.clear();
  }

  /**
   * Call it once the run's processes are gone: fixes where its output ends, and resolves once all of it is stored,
   * with how many bytes that is (every stream, from the run's start); undefined for a run it does not ship.
   * Retries a failing store (or filesystem) until it answers; rejects with ShipperStopped if the daemon stops first.
   */
  async finish(key: string): Promise<number | undefined> {
    const run = this.#runs.get(key);
    if (!run) return undefined;
    run.finishing = true;
    // A pass under way may have looked at the files before the run's last write: only a later one can tell.
    await run.pass;
    for (;;) {
      if (this.#stopping) throw new ShipperStopped(`job ${run.jobId}: output not all stored before the stop`);
      const wait = run.retryAt - Date.now();
      if (wait > 0) {
        await Promise.race([this.#stopped, new Promise((done) => setTimeout(done, wait).unref())]);
        continue;
      }
      if (!run.end) await this.#fixEnd(run).catch((error: Error) => this.#failed(run, error));
      else if (await this.#ship(run)) return Object.values(run.end).reduce((sum, bytes) => sum + bytes, 0);
    }
  }

  /** The run is reported and done: its offsets leave the journal. */
  async forget(key: string): Promise<void> {
    const run = this.#runs.get(key);
    this.#runs.delete(key);
    this.#checkSpool();
    await run?.pass?.catch(() => {});
    if (run?.journaled) await this.#journal.remove(key);
  }

  /** Stops shipping; what is not stored yet is shipped by the next start, from the journal. */
  async stop(): Promise<void> {
    this.#stopping = true;
    this.#stop();
    clearInterval(this.#timer);
    await Promise.all([...this.#runs.values()].map((run) => run.pass?.catch(() => {})));
  }

  #tick(): void {
    const now = Date.now();
    for (const run of this.#runs.values()) {
      if (!run.pass && !run.finishing && now >= run.retryAt && now >= run.nextPassAt) void this.#ship(run);
    }
  }

  /** One pass over the run's files; answers whether everything they held was stored. */
  #ship(run: Tracked): Promise<boolean> {
    run.pass ??= this.#pass(run).finally(() => {
      run.pass = undefined;
      this.#checkSpool();
    });
    return run.pass;
  }

  /** Says when the spool crosses its bound, either way. */
  #checkSpool(): void {
    const bytes = this.unshipped();
    const full = bytes > (this.options.spoolBytes ?? Infinity);
    if (full === this.#spoolFull) return;
    this.#spoolFull = full;
    this.options.log.warn(
      full
        ? `${bytes} bytes of output wait for the log store, past CONDUCTOR_LOG_SPOOL_BYTES (${this.options.spoolBytes}): no new job is taken until it has stored them`
        : `output waiting for the log store back under CONDUCTOR_LOG_SPOOL_BYTES (${bytes} bytes): jobs are taken again`,
    );
    this.options.spoolChanged?.(full);
  }

  /** Where the run's output ends: its files' sizes now, journaled before anything is shipped up to them. */
  async #fixEnd(run: Tracked): Promise<void> {
    const end: Sizes = {};
    for (const file of run.files) end[file.stream] = Math.max(0, (await sizeOf(file.path)) - file.base);
    // Held only once journaled: a restart must find the same end, not measure a later one. Unless all of it is
    // stored already (a run that printed little, or nothing): with nothing left to ship, a synced write per run is
    // spared; a crash before the run is reported then measures its end again.
    const left = run.files.some(
      (file) => (end[file.stream] ?? 0) > (run.shipped[file.stream] ?? 0) || run.uploading[file.stream] !== undefined,
    );
    if (left) await this.#save(run, end);
    run.end = end;
  }

  async #save(run: Tracked, end = run.end): Promise<void> {
    // Not once the run is forgotten: its entry is gone for good.
    if (this.#runs.get(run.key) !== run) return;
    run.journaled = true;
    await this.#journal.write(run.key, {
      key: run.key,
      shipped: run.shipped,
      uploading: run.uploading,
      ...(end ? { end } : {}),
    });
  }

  #failed(run: Tracked, error: Error): void {
    if (!run.failing) {
      this.options.log.warn(`job ${run.jobId}: output not stored, retrying: ${error.message}`, {
        job_id: run.jobId,
        ...errorFields(error),
      });
    }
    run.failing = true;
    run.retryAt = Date.now() + run.retry.next();
  }

  async #pass(run: Tracked): Promise<boolean> {
    try {
      let shipped = 0;
      for (const file of run.files) shipped += await this.#shipFile(run, file);
      if (this.#stopping) return false;
      if (shipped) run.quiet.reset();
      run.nextPassAt = shipped ? 0 : Date.now() + run.quiet.next();
      if (run.failing) {
        this.options.log.info(`job ${run.jobId}: the log store answers again; output shipping resumed`, {
          job_id: run.jobId,
        });
      }
      run.retry.reset();
      Object.assign(run, { failing: false, retryAt: 0 });
      return true;
    } catch (error) {
      this.#failed(run, error as Error);
      return false;
    }
  }

  /** Ships what the file gained; answers how many bytes. */
  async #shipFile(run: Tracked, file: OutputFile): Promise<number> {
    const end = run.end?.[file.stream];
    const size = end === undefined ? await sizeOf(file.path) : file.base + end;
    run.seen[file.stream] = Math.max(0, size - file.base);
    const before = run.shipped[file.stream] ?? 0;
    // A file that shrank was truncated by its job: the bytes before the cut are stored, the rest cannot be found.
    if (file.base + before >= size && run.uploading[file.stream] === undefined) return 0;
    const id: LogStreamId = {
      ...(run.cluster === undefined ? {} : { cluster: run.cluster }),
      jobId: run.jobId,
      attempt: run.attempt,
      stream: file.stream,
    };
    const handle = await open(file.path, OPEN_FLAGS).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return 'gone' as const;
      if (error.code === 'ELOOP') return 'replaced' as const;
      throw error;
    });
    if (handle === 'gone') return this.#lost(run, file, 'its output file is gone');
    if (handle === 'replaced' || !(await isTheFile(handle, file.id))) {
      if (typeof handle !== 'string') await handle.close();
      return this.#lost(run, file, 'its output file was replaced');
    }
    try {
      for (;;) {
        const shipped = run.shipped[file.stream] ?? 0;
        let length = run.uploading[file.stream];
        if (length === undefined) {
          if (file.base + shipped >= size || this.#stopping) break;
          length = Math.min(this.options.chunkBytes, size - file.base - shipped);
          // The chunk is journaled first (with everything stored before it): whatever happens to its upload, it is
          // uploaded again just so, never cut another way.
          run.uploading[file.stream] = length;
          await this.#save(run);
        }
        const bytes = new Uint8Array(length);
        const { bytesRead } = await handle.read(bytes, 0, length, file.base + shipped);
        if (bytesRead < length) {
          // The file was cut since this chunk was journaled. Its upload may have landed before the cut: never
          // overwrite that with fewer bytes.
          if (await this.#stored(id, shipped, length)) run.shipped[file.stream] = shipped + length;
          else if (bytesRead > 0) {
            await this.options.store.put(id, shipped, bytes.subarray(0, bytesRead));
            run.shipped[file.stream] = shipped + bytesRead;
          }
          delete run.uploading[file.stream];
          break;
        }
        await this.options.store.put(id, shipped, bytes);
        run.shipped[file.stream] = shipped + length;
        delete run.uploading[file.stream];
      }
    } finally {
      await handle.close();
    }
    return (run.shipped[file.stream] ?? 0) - before;
  }

  /** Whether the chunk at this offset is stored whole already. */
  async #stored(id: LogStreamId, offset: number, length: number): Promise<boolean> {
    for await (const chunk of this.options.store.list(id, offset))
      return chunk.offset === offset && chunk.size === length;
    return false;
  }

  /** What is left of a file that went away cannot be shipped: the run's output ends at what was stored. */
  async #lost(run: Tracked, file: OutputFile, why: string): Promise<number> {
    if (run.end === undefined) return 0;
    this.options.log.warn(`job ${run.jobId}: ${file.stream} ends at ${run.shipped[file.stream] ?? 0} bytes: ${why}`, {
      job_id: run.jobId,
      stream: file.stream,
    });
    delete run.uploading[file.stream];
    const end = { ...run.end, [file.stream]: run.shipped[file.stream] ?? 0 };
    await this.#save(run, end);
    run.end = end;
    return 0;
  }
}

/** Whether the open file is a regular file, and the one the job opened when its `dev:ino` is known. */
async function isTheFile(handle: FileHandle, id: string | undefined): Promise<boolean> {
  const found = await handle.stat({ bigint: true });
  return found.isFile() && (id === undefined || `${found.dev}:${found.ino}` === id);
}

/** A file's size; a file not made yet is empty. Any other failure (a filesystem away) is worth a retry, not a 0. */
async function sizeOf(path: string): Promise<number> {
  try {
    return (await lstat(path)).size;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw error;
  }
}
