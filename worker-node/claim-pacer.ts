/**
 * How often an idle node asks for work. A pay-per-request Redis (Upstash) bills every claim, so a node that finds
 * nothing waits longer each time, up to `maxMs`; one that finds work asks again at once. With a 30 s maximum an idle
 * node claims about 3600 / 30 = 120 times an hour. On a TCP Redis the node also listens for new work
 * (wake-subscriber.ts), and a wake starts the backoff over and ends the claim loop's sleep, so the backoff costs no
 * latency there.
 */
import { Backoff } from '../shared/backoff.js';

export interface ClaimPacerOptions {
  /** The first wait after an empty claim. */
  minMs: number;
  /** The longest wait between claims of an idle node. */
  maxMs: number;
  /** How much longer each next wait is. */
  factor: number;
  /** A random part of each wait (0.1 = up to ±10%), so that idle nodes do not claim in lockstep. */
  jitter: number;
}

export class ClaimPacer {
  readonly #backoff: Backoff;
  #delayMs = 0;

  constructor(private readonly options: ClaimPacerOptions) {
    this.#backoff = new Backoff(options);
  }

  /** The wait before the next claim, given whether the last one found work. */
  record(foundWork: boolean): number {
    if (foundWork) this.#backoff.reset();
    this.#delayMs = foundWork ? 0 : this.#backoff.next();
    return this.#delayMs;
  }

  /** New work may be there: the next empty claim waits the shortest time again. */
  reset(): void {
    this.#backoff.reset();
    this.#delayMs = 0;
  }

  /** The wait to sleep now: the one recorded, spread by the jitter (`random` in [0, 1)). */
  waitMs(random = Math.random()): number {
    return this.#delayMs + this.#delayMs * this.options.jitter * (random * 2 - 1);
  }
}
