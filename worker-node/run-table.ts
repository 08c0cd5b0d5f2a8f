/**
 * The runs this node holds, each with its phase (run-state.ts) and the record its journal keeps (run-record.ts), from
 * admission until the API has acknowledged its end. The only place a run's phase changes, and the only writer of its
 * journal: a record is written as journal.ts writes (aside, flushed, renamed), and never again once forgotten.
 */
import { Journal } from './journal.js';
import { runKey, type RunRecord } from './run-record.js';
import { hasEnded, journaledPhase, moveRun, type RunPhase } from './run-state.js';

export interface Run {
  readonly key: string;
  readonly record: RunRecord;
  /** Read-only outside the table: every move goes through `move`, and so through moveRun's rules. */
  readonly phase: RunPhase;
  /** When the run was first seen without its wrapper and without a status file (run-ending-rule.ts keeps it). */
  goneSince?: number;
  /** Its wrapper was found gone without a status file: it is being ended for that, once. */
  wrapperLost?: boolean;
  /**
   * Its wrapper (for a record naming none, its job) was already gone without a status file when the daemon started
   * again (run-recovery.ts): lost with the daemon, so its end is the node's failure (job-ending.ts, DAEMON_LOST_WRAPPER).
   */
  lostWithDaemon?: boolean;
}

interface HeldRun extends Run {
  phase: RunPhase;
}

export class RunTable {
  readonly #runs = new Map<string, HeldRun>();
  readonly #journal: Journal<RunRecord>;

  /** `saved` hears how long each durable write of a record took, in seconds (the daemon's metrics). */
  constructor(
    readonly journalDir: string,
    private readonly saved: (seconds: number) => void = () => {},
  ) {
    this.#journal = new Journal(journalDir);
  }

  /** Every record in the journal, in the order of their keys. */
  readJournal(): Promise<RunRecord[]> {
    return this.#journal.readAll();
  }

  /** A run read from the journal at start-up. */
  restore(record: RunRecord): Run {
    return this.#hold({ key: runKey(record), record, phase: journaledPhase(record) });
  }

  /** A run just confirmed, its cores allocated (or found missing). */
  admit(record: RunRecord): Run {
    return this.#hold({ key: runKey(record), record, phase: 'admitted' });
  }

  get(key: string): Run | undefined {
    return this.#runs.get(key);
  }

  has(key: string): boolean {
    return this.#runs.has(key);
  }

  all(): Run[] {
    return [...this.#runs.values()];
  }

  /** Runs whose end is not known yet: they hold cores and memory, and the heartbeat lists them as running. */
  unended(): Run[] {
    return this.all().filter((run) => !hasEnded(run.phase));
  }

  /** Runs that ended whose end the API has not acknowledged yet: the heartbeat lists them apart. */
  ended(): Run[] {
    return this.all().filter((run) => hasEnded(run.phase));
  }

  /** Runs whose process group may still be there: running, or being ended after it ran. */
  withProcess(): Run[] {
    return this.all().filter(hasProcess);
  }

  hasRunOf(jobId: number): boolean {
    return this.all().some((run) => run.record.jobId === jobId);
  }

  /** Moves a run to its next phase; from `reporting` on, its record says it ended. */
  move(run: Run, to: RunPhase): void {
    const held = run as HeldRun;
    held.phase = moveRun(held.phase, to);
    if (hasEnded(to)) held.record.ended = true;
  }

  /** Writes the run's record to the journal, unless it is forgotten. */
  async save(run: Run): Promise<void> {
    if (run.phase === 'forgotten') return;
    const started = performance.now();
    await this.#journal.write(run.key, run.record);
    this.saved((performance.now() - started) / 1000);
  }

  /** The run leaves the table and the journal. */
  async forget(run: Run): Promise<void> {
    this.move(run, 'forgotten');
    this.#runs.delete(run.key);
    await this.#journal.remove(run.key);
  }

  #hold(run: HeldRun): Run {
    this.#runs.set(run.key, run);
    return run;
  }
}

/** Running, or being ended after it ran (a run that never started has no process). */
export function hasProcess(run: Run): boolean {
  return (run.phase === 'running' || run.phase === 'ending') && run.record.pid !== undefined;
}
