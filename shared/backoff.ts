/**
 * One schedule of growing pauses, for the daemon's loops and the SDK's reconnects: each failure (or idle pass) in a
 * row waits `factor` times longer than the last, from `minMs` up to `maxMs`; a success starts it over. The delay itself is the `retry` package's
 * (`createTimeout`, what p-retry and proper-lockfile build on); this only counts the failures, because the daemon's
 * loops wait in their own way (a sleep that news cuts short, a time to try again at), never inside a retry wrapper.
 * No jitter here: where spreading matters (idle nodes claiming), the caller adds its own.
 */
import { createTimeout } from 'retry';

export interface BackoffSchedule {
  /** The first pause. */
  minMs: number;
  /** The longest pause. */
  maxMs: number;
  /** How much longer each next pause is; 2 unless said. */
  factor?: number;
}

/** The pause after `failures` failures in a row before this one (0: the first pause, `minMs`). */
export function backoffDelay(failures: number, schedule: BackoffSchedule): number {
  return createTimeout(failures, {
    minTimeout: schedule.minMs,
    maxTimeout: schedule.maxMs,
    // createTimeout fills in no defaults: without a factor every pause would be NaN.
    factor: schedule.factor ?? 2,
    randomize: false,
  });
}

export class Backoff {
  #failures = 0;

  constructor(private readonly schedule: BackoffSchedule) {}

  /** One more failure: the pause to wait before trying again. */
  next(): number {
    return backoffDelay(this.#failures++, this.schedule);
  }

  /** It worked: the next failure waits the shortest pause again. */
  reset(): void {
    this.#failures = 0;
  }
}
