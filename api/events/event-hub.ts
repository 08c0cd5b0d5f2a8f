/**
 * One reader of the event stream per process, for all its clients (the Node host's GET /v1/events): it reads every
 * new event once, unfiltered, and hands each batch to every subscriber, which filters in memory. A thousand idle
 * clients cost one query per `pollMs`, not a thousand. `notify()` (the host's LISTEN on conductor_events, migration
 * 0028) cuts the wait short, so an event is read as soon as it commits; the poll covers a lost notification, and an
 * event held back by the horizon (read-events.ts), for which no notification comes again, is read again every
 * `pendingPollMs` until it passes.
 *
 * States: idle (no subscriber, no query), running, stopped. Errors are retried after `pollMs`, never thrown out.
 */
import type { Database } from '../../shared/db/database.js';
import { CursorExpired } from '../http/errors.js';
import type { EventPosition } from './event-position.js';
import type { EventFilter } from './event-filter.js';
import { EVENT_KINDS } from './event-filter.js';
import { currentPosition, readEvents } from './read-events.js';
import type { StreamEvent } from './stream-event.js';

/** Every event after `after` up to `through` (event-position.ts), in order. */
export interface EventBatch {
  after: EventPosition;
  through: EventPosition;
  events: StreamEvent[];
}

export type BatchListener = (batch: EventBatch) => void;

export interface EventHubOptions {
  pollMs: number;
  pendingPollMs: number;
  /** Events read at once. */
  batchSize: number;
}

export const DEFAULT_EVENT_HUB_OPTIONS: EventHubOptions = { pollMs: 1000, pendingPollMs: 50, batchSize: 1000 };

const EVERYTHING: EventFilter = { kinds: EVENT_KINDS };

export class EventHub {
  readonly #listeners = new Set<BatchListener>();
  #loop: Promise<void> | undefined;
  #wake: (() => void) | undefined;
  #woken = false;
  #stopped = false;

  constructor(
    private readonly db: Database,
    private readonly options: EventHubOptions = DEFAULT_EVENT_HUB_OPTIONS,
  ) {}

  /** Calls `listener` with each batch read from now on; answers the unsubscribe. */
  subscribe(listener: BatchListener): () => void {
    this.#listeners.add(listener);
    if (!this.#loop && !this.#stopped) this.#loop = this.#run();
    // A new subscriber wants to hear promptly of what its catch-up read could not see yet.
    this.notify();
    return () => {
      this.#listeners.delete(listener);
      if (this.#listeners.size === 0) this.notify();
    };
  }

  get subscribers(): number {
    return this.#listeners.size;
  }

  /** Something may have committed: read now rather than at the next poll. */
  notify(): void {
    this.#woken = true;
    this.#wake?.();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.notify();
    await this.#loop;
  }

  async #run(): Promise<void> {
    let position: EventPosition | undefined;
    while (!this.#stopped && this.#listeners.size > 0) {
      let waitMs = this.options.pollMs;
      try {
        this.#woken = false;
        position ??= await currentPosition(this.db);
        const read = await readEvents(this.db, position, EVERYTHING, this.options.batchSize);
        const batch: EventBatch = { after: position, through: read.through, events: read.events };
        position = read.through;
        for (const listener of this.#listeners) {
          try {
            listener(batch);
          } catch {
            // A listener's failure is its own client's (it ends that stream); the others keep theirs.
          }
        }
        if (read.events.length === this.options.batchSize) continue;
        if (read.pending) waitMs = this.options.pendingPollMs;
      } catch (error) {
        // The database is away: try again after a poll; the clients' positions are theirs, nothing is skipped. Behind
        // retention (CursorExpired), start from now: each client's own read then meets the gap and is told.
        if (error instanceof CursorExpired) position = undefined;
      }
      await this.#sleep(waitMs);
    }
    this.#loop = undefined;
    // A subscriber that came while the loop was ending starts it again.
    if (!this.#stopped && this.#listeners.size > 0) this.#loop = this.#run();
  }

  async #sleep(ms: number): Promise<void> {
    if (this.#woken || this.#stopped) return;
    await new Promise<void>((resume) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resume();
      }
      this.#wake = done;
    });
    this.#wake = undefined;
  }
}
