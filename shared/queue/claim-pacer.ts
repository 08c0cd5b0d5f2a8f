/**
 * How often an idle node asks for work. A pay-per-request Redis (Upstash) bills every claim, so a node that finds
 * nothing waits longer each time, up to `maxMs`; one that finds work asks again at once. With the defaults an idle
 * node claims about 3600 / 30 = 120 times an hour. On a TCP Redis the node also listens for new work
 * (wake-subscriber.ts), and `notify()` cuts the wait short, so the backoff costs no latency there.
 */

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

export const DEFAULT_CLAIM_PACER: ClaimPacerOptions = { minMs: 100, maxMs: 30_000, factor: 2, jitter: 0.1 };

export class ClaimPacer {
  #delayMs = 0;
  #wake: (() => void) | undefined;

  constructor(private readonly options: ClaimPacerOptions = DEFAULT_CLAIM_PACER) {}

  /** The wait before the next claim, given whether the last one found work. */
  record(foundWork: boolean): number {
    const { minMs, maxMs, factor } = this.options;
    this.#delayMs = foundWork ? 0 : Math.min(maxMs, this.#delayMs === 0 ? minMs : this.#delayMs * factor);
    return this.#delayMs;
  }

  /** Waits out the current delay, or less if notify() is called meanwhile. */
  wait(): Promise<void> {
    if (this.#delayMs === 0) return Promise.resolve();
    const spread = this.#delayMs * this.options.jitter * (Math.random() * 2 - 1);
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, this.#delayMs + spread);
      const wake = () => done();
      this.#wake = wake;
      function done() {
        clearTimeout(timer);
        resolve();
      }
    }).finally(() => {
      this.#wake = undefined;
    });
  }

  /** New work may be there: end the wait now and start the backoff over. */
  notify(): void {
    this.#delayMs = 0;
    this.#wake?.();
  }
}
