/**
 * Sends the node's job events to the API until it acknowledges them. The events live in the journal (each run's
 * record holds its own unsent ones, in order), so a daemon crash loses none: the restarted daemon sends them again,
 * and the API answers a repeat as a duplicate. Events go in batches; while the API is away the outbox retries with
 * a growing pause, and new events wait for the next try rather than hammer it.
 */
import type { NodeEvent } from '../shared/protocol/events.js';
import { Backoff } from '../shared/backoff.js';
import { DaemonLoop } from './daemon-loop.js';
import { ApiRefused } from './node-api.js';
import { errorFields, type Logger } from '../shared/log/logger.js';

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
  log: Logger;
}

const BATCH = 500;
const RETRY = { minMs: 100, maxMs: 2000 };
const LINGER_MS = 10;

export class Outbox {
  readonly #loop: DaemonLoop;
  readonly #retry = new Backoff(RETRY);
  #notified = false;
  /** Waiting for news: only then does news end the wait (a pause after a failure, or a linger, is waited out). */
  #idle = false;
  #failing = false;

  constructor(private readonly options: OutboxOptions) {
    this.#loop = new DaemonLoop({ name: 'outbox', pass: () => this.#pass(), log: options.log });
  }

  start(): void {
    this.#loop.start();
  }

  /** Something new is in the journal. */
  notify(): void {
    this.#notified = true;
    if (this.#idle) this.#loop.notify();
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

  close(): Promise<void> {
    return this.#loop.stop();
  }

  /** One batch sent; answers how long to wait before the next. */
  async #pass(): Promise<number> {
    this.#idle = false;
    try {
      if (await this.#sendBatch()) {
        this.#retry.reset();
        // Busy: let a few more events gather, so that one request carries many jobs' starts and ends.
        return LINGER_MS;
      }
      if (this.#notified) return 0;
      this.#idle = true;
      return Infinity;
    } catch (error) {
      if (!this.#failing)
        this.options.log.warn(`events not delivered, retrying: ${(error as Error).message}`, errorFields(error));
      this.#failing = true;
      const pauseMs = this.#retry.next();
      // A refusal (4xx) is not cured by trying at once: wait the longest pause.
      return error instanceof ApiRefused ? RETRY.maxMs : pauseMs;
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
    if (this.#failing) this.options.log.info('events delivered again');
    this.#failing = false;
    await Promise.all(taken.map(({ key, count }) => this.options.acknowledged(key, count)));
    return true;
  }
}
