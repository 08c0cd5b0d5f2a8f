/**
 * Ships each run's stdout and stderr files to the log store as they grow (DESIGN.md section 7): every `flushMs`, what
 * a file gained goes up in chunks of at most `chunkBytes`, each named by its offset in the run's output. After each
 * stored chunk the shipped offset is journaled, so a restarted daemon goes on from there: a chunk stored again because
 * the crash came between its upload and its journal entry lands on the same name with the same leading bytes. The
 * output files are appended to across attempts, so a run's output starts where its files ended when it was admitted.
 * A store that fails is retried with backoff for as long as it takes; the job itself never waits for it.
 */
import { stat as statCallback } from 'node:fs';
import { open } from 'node:fs/promises';
import { promisify } from 'node:util';
import type { LogStore, LogStream, LogStreamId } from '../shared/logs/log-store.js';
import { Journal } from './journal.js';

export interface OutputFile {
  stream: LogStream;
  path: string;
  /** The file's size when the run was admitted: its output starts there. */
  base: number;
}

export interface LogShipperOptions {
  store: LogStore;
  /** The shipper's journal: shipped offsets by run. */
  dir: string;
  flushMs: number;
  chunkBytes: number;
  log(line: string): void;
}

/** finish() gave up because the daemon is stopping: the run's output is shipped after its restart. */
export class ShipperStopped extends Error {}

type Shipped = Partial<Record<LogStream, number>>;

interface Tracked {
  key: string;
  jobId: number;
  attempt: number;
  files: OutputFile[];
  shipped: Shipped;
  /** The pass under way, if any: passes over one run never overlap. */
  pass?: Promise<boolean>;
  /** While the store fails: when to try again, and how long to wait after the next failure. */
  retryAt: number;
  backoffMs: number;
  failing: boolean;
  /** Passes in a row that found nothing new: a quiet run is looked at less often. */
  quietPasses: number;
  nextPassAt: number;
}

const BACKOFF_MIN_MS = 250;
const BACKOFF_MAX_MS = 5000;
// A run that printed nothing lately is looked at every flush, then less often, down to once a second: 200 quiet jobs
// cost 400 stats a second instead of 1,600.
const QUIET_PASS_MAX_MS = 1000;
// The callback form: in this daemon's hot loop it costs half what fs/promises' stat does, and unlike statSync it never
// blocks the daemon on a hung network filesystem.
const stat = promisify(statCallback);

export class LogShipper {
  readonly #journal: Journal<{ key: string; shipped: Shipped }>;
  readonly #runs = new Map<string, Tracked>();
  /** Offsets journaled before a restart, until their run is tracked again. */
  readonly #recovered = new Map<string, Shipped>();
  #timer: NodeJS.Timeout | undefined;
  #stopping = false;

  constructor(private readonly options: LogShipperOptions) {
    this.#journal = new Journal(options.dir);
  }

  async start(): Promise<void> {
    for (const { key, shipped } of await this.#journal.readAll()) this.#recovered.set(key, shipped);
    this.#timer = setInterval(() => this.#tick(), this.options.flushMs);
    this.#timer.unref();
  }

  /** Ships this run's output from now on (again, after a restart: from its journaled offsets). */
  track(key: string, run: { jobId: number; attempt: number }, files: OutputFile[]): void {
    if (this.#runs.has(key)) return;
    const shipped = this.#recovered.get(key) ?? {};
    this.#recovered.delete(key);
    this.#runs.set(key, {
      key,
      ...run,
      files,
      shipped,
      retryAt: 0,
      backoffMs: BACKOFF_MIN_MS,
      failing: false,
      quietPasses: 0,
      nextPassAt: 0,
    });
  }

  /**
   * Resolves once every byte the run's files hold is stored: call it when the run's processes are gone. Retries a
   * failing store until it answers; rejects with ShipperStopped if the daemon stops first.
   */
  async finish(key: string): Promise<void> {
    const run = this.#runs.get(key);
    if (!run) return;
    // A pass under way may have looked at the files before the run's last write: only a later one can tell.
    await run.pass;
    for (;;) {
      if (this.#stopping) throw new ShipperStopped(`job ${run.jobId}: output not all stored before the stop`);
      const wait = run.retryAt - Date.now();
      if (wait > 0) await new Promise((done) => setTimeout(done, Math.min(wait, BACKOFF_MAX_MS)));
      else if (await this.#ship(run)) return;
    }
  }

  /** The run is reported and done: its offsets leave the journal. */
  async forget(key: string): Promise<void> {
    const run = this.#runs.get(key);
    this.#runs.delete(key);
    await run?.pass?.catch(() => {});
    await this.#journal.remove(key);
  }

  /** Stops shipping; what is not stored yet is shipped by the next start, from the journal. */
  async stop(): Promise<void> {
    this.#stopping = true;
    clearInterval(this.#timer);
    await Promise.all([...this.#runs.values()].map((run) => run.pass?.catch(() => {})));
  }

  #tick(): void {
    const now = Date.now();
    for (const run of this.#runs.values()) {
      if (!run.pass && now >= run.retryAt && now >= run.nextPassAt) void this.#ship(run);
    }
  }

  /** One pass over the run's files; answers whether everything they held was stored. */
  #ship(run: Tracked): Promise<boolean> {
    run.pass ??= this.#pass(run).finally(() => (run.pass = undefined));
    return run.pass;
  }

  async #pass(run: Tracked): Promise<boolean> {
    try {
      let shipped = 0;
      for (const file of run.files) shipped += await this.#shipFile(run, file);
      if (this.#stopping) return false;
      run.quietPasses = shipped ? 0 : run.quietPasses + 1;
      run.nextPassAt = shipped
        ? 0
        : Date.now() + Math.min(QUIET_PASS_MAX_MS, this.options.flushMs * 2 ** run.quietPasses);
      if (run.failing) this.options.log(`job ${run.jobId}: the log store answers again; output shipping resumed`);
      Object.assign(run, { failing: false, retryAt: 0, backoffMs: BACKOFF_MIN_MS });
      return true;
    } catch (error) {
      if (!run.failing) {
        this.options.log(`job ${run.jobId}: output not stored, retrying: ${(error as Error).message}`);
      }
      run.failing = true;
      run.retryAt = Date.now() + run.backoffMs;
      run.backoffMs = Math.min(BACKOFF_MAX_MS, run.backoffMs * 2);
      return false;
    }
  }

  /** Ships what the file gained; answers how many bytes. */
  async #shipFile(run: Tracked, file: OutputFile): Promise<number> {
    const size = await stat(file.path).then(
      (stats) => stats.size,
      () => 0,
    );
    const before = run.shipped[file.stream] ?? 0;
    let shipped = before;
    // A file that shrank was truncated by its job: the bytes before the cut are stored, the rest cannot be found.
    if (file.base + shipped >= size) return 0;
    const id: LogStreamId = { jobId: run.jobId, attempt: run.attempt, stream: file.stream };
    const handle = await open(file.path, 'r');
    try {
      while (file.base + shipped < size && !this.#stopping) {
        const bytes = new Uint8Array(Math.min(this.options.chunkBytes, size - file.base - shipped));
        const { bytesRead } = await handle.read(bytes, 0, bytes.length, file.base + shipped);
        if (bytesRead === 0) break;
        await this.options.store.put(id, shipped, bytes.subarray(0, bytesRead));
        shipped += bytesRead;
        run.shipped[file.stream] = shipped;
        // Not once the run is forgotten: its entry is gone for good.
        if (this.#runs.get(run.key) === run) await this.#journal.write(run.key, { key: run.key, shipped: run.shipped });
      }
    } finally {
      await handle.close();
    }
    return shipped - before;
  }
}
