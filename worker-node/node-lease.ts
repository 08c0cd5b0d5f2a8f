/**
 * The node's lease with the API (fencing on node loss, docs/architecture.md): each answered heartbeat renews it for
 * `lease_seconds` from when the heartbeat was sent (the API counts from when it got it, so the node's lease always
 * ends first); once it has ended, the API may settle the node's jobs and start them elsewhere. So a node that cannot
 * renew it stops its runs before it ends, twice over:
 * - the daemon, at `stopAt`, gracefully (SIGTERM, the kill grace, SIGKILL): each run ends NODE_FAIL (LEASE_EXPIRED);
 * - each run's wrapper, at `fenceAt`, with SIGKILL, whether the daemon is there or not: the daemon writes the
 *   deadlines to the lease file (`<node dir>/lease`) on each renewal, whole and renamed, and the wrapper reads it
 *   (job-launcher.pl, fence).
 * A lease that never expires (`lease_seconds` null: CONDUCTOR_NODE_LEASE_SECONDS=never) removes the file: no run is
 * ever stopped for it. Deadlines are epoch ms of this machine's clock: the wrapper reads the same clock.
 */
import {
  closeSync,
  ftruncateSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import type { Logger } from '../shared/log/logger.js';

/** When a lease sent for at `sentAtMs` ends, and when the daemon and the wrappers stop the runs: epoch ms. */
export interface LeaseDeadlines {
  stopAt: number;
  fenceAt: number;
  endsAt: number;
}

const clamp = (value: number, min: number, max: number) => Math.min(max, Math.max(min, value));

/**
 * The deadlines of a lease of `leaseSeconds` renewed by a heartbeat sent at `sentAtMs`. The wrappers kill at its end
 * less a tenth of it (0.5 to 5 s: time for the kill, and their one-second checks); the daemon stops the runs before
 * that by its kill grace and another tenth (0.5 to 10 s), though never before half the lease has passed.
 */
export function leaseDeadlines(sentAtMs: number, leaseSeconds: number, killGraceMs: number): LeaseDeadlines {
  const leaseMs = leaseSeconds * 1000;
  const endsAt = sentAtMs + leaseMs;
  const fenceMargin = clamp(leaseMs / 10, 500, 5000);
  const stopMargin = Math.min(leaseMs / 2, fenceMargin + killGraceMs + clamp(leaseMs / 10, 500, 10_000));
  return { stopAt: endsAt - stopMargin, fenceAt: endsAt - fenceMargin, endsAt };
}

/** The lease file's text: the wrapper's deadline first (the only number it reads), then the daemon's and the end. */
export function leaseFileText(deadlines: LeaseDeadlines): string {
  return `${deadlines.fenceAt} ${deadlines.stopAt} ${deadlines.endsAt}\n`;
}

/** The deadlines a lease file holds; undefined without one (never-expiring lease, or none heard yet). */
export function readLeaseFile(file: string): LeaseDeadlines | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const [fenceAt, stopAt, endsAt] = text.trim().split(' ').map(Number);
  if (![fenceAt, stopAt, endsAt].every((n) => Number.isFinite(n))) return undefined;
  return { fenceAt: fenceAt!, stopAt: stopAt!, endsAt: endsAt! };
}

/**
 * Writes the lease file aside and renames it over, so a wrapper reads it whole. On a full disk (ENOSPC) the file that is
 * there is overwritten in place instead: its text has the same length each time (epoch ms have 13 digits until 2286),
 * so that takes no new block, and the wrappers read it until two reads agree (job-launcher.pl). Without it a full node
 * directory would stop every run at the old lease's end, though the API renews it.
 */
function writeLeaseFile(file: string, text: string): void {
  const temporary = `${file}.tmp`;
  try {
    writeFileSync(temporary, text, { mode: 0o644 });
    renameSync(temporary, file);
  } catch (error) {
    rmSync(temporary, { force: true });
    if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
    const fd = openSync(file, 'r+');
    try {
      writeSync(fd, text, 0);
      ftruncateSync(fd, Buffer.byteLength(text));
    } finally {
      closeSync(fd);
    }
  }
}

export interface NodeLeaseOptions {
  /** `<node dir>/lease`, read by the runs' wrappers. */
  file: string;
  killGraceMs: number;
  /** The lease is ending unrenewed: stop every run (once per lease). */
  expiring(): void;
  log: Logger;
  now?: () => number;
  setTimer?: (run: () => void, ms: number) => { clear(): void };
}

const nodeTimer = (run: () => void, ms: number) => {
  const timer = setTimeout(run, ms);
  // A lease alone must not keep a stopping daemon alive.
  timer.unref();
  return { clear: () => clearTimeout(timer) };
};

export class NodeLease {
  #deadlines: LeaseDeadlines | undefined;
  #timer: { clear(): void } | undefined;
  readonly #now: () => number;
  readonly #setTimer: NonNullable<NodeLeaseOptions['setTimer']>;

  constructor(private readonly options: NodeLeaseOptions) {
    this.#now = options.now ?? Date.now;
    this.#setTimer = options.setTimer ?? nodeTimer;
  }

  /**
   * At start-up: the lease a previous daemon holds on (its wrappers still keep to it) is this one's until renewed, so
   * a daemon restarted while the API is away still stops its runs in time.
   */
  resume(): void {
    this.#arm(readLeaseFile(this.options.file));
  }

  /** The deadlines of the lease held now; undefined when none expires. */
  get deadlines(): LeaseDeadlines | undefined {
    return this.#deadlines;
  }

  /**
   * A heartbeat sent at `sentAtMs` was answered: `leaseSeconds` from then (null: a lease that never expires; undefined:
   * an API that grants none, the same). The file is written before the timer moves: a wrapper never sees a deadline
   * later than the daemon's own.
   */
  renewed(sentAtMs: number, leaseSeconds: number | null | undefined): void {
    if (leaseSeconds === null || leaseSeconds === undefined) {
      rmSync(this.options.file, { force: true });
      return this.#arm(undefined);
    }
    // The latest grant holds, even a shorter one (the API's lease was shortened): the API counts from it too.
    // Heartbeats are sent one at a time, so no older answer comes after it.
    const deadlines = leaseDeadlines(sentAtMs, leaseSeconds, this.options.killGraceMs);
    writeLeaseFile(this.options.file, leaseFileText(deadlines));
    this.#arm(deadlines);
  }

  /** The heartbeat's timer goes; the file stays, for the wrappers. */
  stop(): void {
    this.#timer?.clear();
    this.#timer = undefined;
  }

  #arm(deadlines: LeaseDeadlines | undefined): void {
    this.stop();
    this.#deadlines = deadlines;
    if (!deadlines) return;
    this.#timer = this.#setTimer(
      () => {
        this.#timer = undefined;
        if (this.#deadlines !== deadlines) return;
        this.options.log.error(
          `the node's lease with the API ends at ${new Date(deadlines.endsAt).toISOString()} unrenewed: stopping its runs`,
        );
        this.options.expiring();
      },
      Math.max(0, deadlines.stopAt - this.#now()),
    );
  }
}
