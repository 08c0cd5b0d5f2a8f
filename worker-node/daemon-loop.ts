/**
 * One of the daemon's loops (heartbeat, claims, watching its runs, sending events): a pass, a sleep, again, until
 * stopped; its state is created, running, stopping or stopped. `notify()` ends the sleep at once, and one that comes
 * during a pass skips the next sleep: the pass under way may have looked before what changed. `stop()` ends the sleep
 * and waits for the pass under way. A pass that throws does not end the loop: the error is reported and the next pass
 * waits a growing pause. Modelled on pg-boss's worker.
 */
import { Backoff } from '../shared/backoff.js';
import type { Logger } from '../shared/log/logger.js';

export type LoopState = 'created' | 'running' | 'stopping' | 'stopped';

export interface DaemonLoopOptions {
  /** Said in the report of a pass that threw. */
  name: string;
  /** One pass; answers how long to sleep before the next (Infinity: until notified). */
  pass(): Promise<number>;
  log: Logger;
}

/** A loop was started twice: a programming error, never a condition of the machine. */
export class LoopStartedTwice extends Error {}

// A pass throws only on what nobody foresaw (a full disk under the journal): try again soon, then less often.
const ERROR_PAUSE = { minMs: 100, maxMs: 5000 };

interface Sleep {
  end(): void;
  /** Whether notify() ends it, or only stop(). */
  endsOnNotify: boolean;
}

export class DaemonLoop {
  #state: LoopState = 'created';
  #notified = false;
  #sleep: Sleep | undefined;
  #running: Promise<void> | undefined;
  readonly #errors = new Backoff(ERROR_PAUSE);

  constructor(private readonly options: DaemonLoopOptions) {}

  get state(): LoopState {
    return this.#state;
  }

  start(): void {
    if (this.#state !== 'created') throw new LoopStartedTwice(`the ${this.options.name} loop was started already`);
    this.#state = 'running';
    this.#running = this.#run();
  }

  /** Something changed that the loop looks at: its next pass is now. */
  notify(): void {
    this.#notified = true;
    if (this.#sleep?.endsOnNotify) this.#sleep.end();
  }

  /** Ends the sleep, lets the pass under way finish, and answers once the loop is over. */
  async stop(): Promise<void> {
    if (this.#state === 'created') this.#state = 'stopped';
    if (this.#state === 'running') this.#state = 'stopping';
    this.#sleep?.end();
    await this.#running;
  }

  /** A wait inside a pass that only stop() cuts short; answers whether the loop is still running after it. */
  async pause(ms: number): Promise<boolean> {
    await this.#sleepFor(ms, false);
    return this.#state === 'running';
  }

  async #run(): Promise<void> {
    while (this.#state === 'running') {
      this.#notified = false;
      let delayMs: number;
      try {
        delayMs = await this.options.pass();
        this.#errors.reset();
      } catch (error) {
        delayMs = this.#errors.next();
        this.#report(error, delayMs);
      }
      if (!this.#notified) await this.#sleepFor(delayMs, true);
    }
    this.#state = 'stopped';
  }

  #sleepFor(ms: number, endsOnNotify: boolean): Promise<void> {
    if (ms <= 0 || this.#state !== 'running') return Promise.resolve();
    return new Promise<void>((resolve) => {
      // setTimeout takes no more than 2^31 - 1 ms (a longer wait fires at once): an endless sleep has no timer.
      const timer = Number.isFinite(ms) ? setTimeout(() => end(), ms) : undefined;
      const end = () => {
        clearTimeout(timer);
        if (this.#sleep === sleep) this.#sleep = undefined;
        resolve();
      };
      const sleep: Sleep = { end, endsOnNotify };
      this.#sleep = sleep;
    });
  }

  #report(error: unknown, delayMs: number): void {
    const message = error instanceof Error ? error.message : String(error);
    try {
      this.options.log.warn(`${this.options.name} failed, next try in ${delayMs} ms: ${message}`, {
        loop: this.options.name,
      });
    } catch {
      // A log that throws must not end the loop it reports on.
    }
  }
}
