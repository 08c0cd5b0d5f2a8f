/**
 * Sends the node's job events to the API until it acknowledges them. The events live in the journal (each run's
 * record holds its own unsent ones, in order), so a daemon crash loses none: the restarted daemon sends them again,
 * and the API answers a repeat as a duplicate. Events go in batches; while the API is away the outbox retries with
 * a growing pause, and new events wait for the next try rather than hammer it.
 */
import type { NodeEvent } from '../shared/protocol/events.js';
import { ApiRefused } from './node-api.js';

export interface OutboxSource {
  key: string;
  /** The run's unsent events, oldest first. */
  events: NodeEvent[];
}

export interface OutboxOptions {
  /** What is unsent now. */
  pending(): OutboxSource[];
  send(events: NodeEvent[]): Promise<void>;
  /** The first `count` events of `key` arrived: forget them, durably. */
  acknowledged(key: string, count: number): Promise<void>;
  log(line: string): void;
}

const BATCH = 500;
const RETRY_MIN_MS = 100;
const RETRY_MAX_MS = 2000;
const LINGER_MS = 10;

export class Outbox {
  #notified = false;
  #wake: (() => void) | undefined;
  #closed = false;
  #failing = false;
  #loop: Promise<void> | undefined;

  constructor(private readonly options: OutboxOptions) {}

  start(): void {
    this.#loop ??= this.#run();
  }

  /** Something new is in the journal. */
  notify(): void {
    this.#notified = true;
    this.#wake?.();
  }

  /** Sends what is unsent now, once; answers whether all of it arrived. */
  async flush(): Promise<boolean> {
    try {
      while (await this.#sendBatch());
      return true;
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#wake?.();
    await this.#loop;
  }

  async #run(): Promise<void> {
    let retryMs = 0;
    while (!this.#closed) {
      try {
        if (await this.#sendBatch()) {
          retryMs = 0;
          // Busy: let a few more events gather, so that one request carries many jobs' starts and ends.
          await this.#pause(LINGER_MS);
          continue;
        }
        await this.#waitForNews();
      } catch (error) {
        if (!this.#failing) this.options.log(`events not delivered, retrying: ${(error as Error).message}`);
        this.#failing = true;
        retryMs = Math.min(RETRY_MAX_MS, Math.max(RETRY_MIN_MS, retryMs * 2));
        // A refusal (4xx) is not cured by trying at once: wait the longest pause.
        await this.#pause(error instanceof ApiRefused ? RETRY_MAX_MS : retryMs);
      }
    }
  }

  /** Sends one batch; answers false when there was nothing to send. */
  async #sendBatch(): Promise<boolean> {
    this.#notified = false;
    const taken: { key: string; count: number }[] = [];
    const events: NodeEvent[] = [];
    for (const source of this.options.pending()) {
      if (events.length >= BATCH) break;
      const some = source.events.slice(0, BATCH - events.length);
      if (some.length === 0) continue;
      events.push(...some);
      taken.push({ key: source.key, count: some.length });
    }
    if (events.length === 0) return false;
    await this.options.send(events);
    if (this.#failing) this.options.log('events delivered again');
    this.#failing = false;
    await Promise.all(taken.map(({ key, count }) => this.options.acknowledged(key, count)));
    return true;
  }

  #waitForNews(): Promise<void> {
    if (this.#notified || this.#closed) return Promise.resolve();
    return new Promise((resolve) => {
      this.#wake = () => {
        this.#wake = undefined;
        resolve();
      };
    });
  }

  #pause(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      // Only a close cuts a pause short.
      this.#wake = () => {
        if (this.#closed) done();
      };
      function done() {
        clearTimeout(timer);
        resolve();
      }
    }).finally(() => {
      this.#wake = undefined;
    });
  }
}
