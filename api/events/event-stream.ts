/**
 * GET /v1/events's body: Server-Sent Events (WHATWG HTML §9.2) of the stream after a position, for one client.
 * It first reads from the client's position (its Last-Event-ID), then follows: on the Node host from the process's
 * EventHub batches (no query of its own while idle), on Workers by reading on a timer within the request, ending
 * after `endAfterMs` so that the platform's limits never cut it mid-event; EventSource reconnects after `retry` with
 * its Last-Event-ID and resumes. Each event's `id:` is its position; a heartbeat comment every `heartbeatMs` keeps
 * proxies from closing an idle stream and carries an `id:` line with the position reached (a block without data sets
 * EventSource's last event id and dispatches nothing), so a client whose filter matched nothing for a while still
 * resumes from where the stream was, not from its first connection.
 */
import type { Database } from '../../shared/db/database.js';
import { comparePositions, formatPosition, laterPosition, type EventPosition } from './event-position.js';
import type { EventFilter } from './event-filter.js';
import { matchesFilter } from './event-filter.js';
import type { EventBatch, EventHub } from './event-hub.js';
import { readEvents } from './read-events.js';
import { streamEventView, type StreamEvent } from './stream-event.js';

export interface EventStreamOptions {
  db: Database;
  filter: EventFilter;
  /** The client's position: events after it are sent. */
  start: EventPosition;
  /** The process's reader (the Node host); none: this stream reads on its own every `pollMs` (Workers). */
  hub: EventHub | undefined;
  pollMs: number;
  heartbeatMs: number;
  /** The stream ends after this long (Workers); undefined: it lasts until the client or the API goes. */
  endAfterMs: number | undefined;
  /** Told to EventSource as `retry:`: how long it waits before it reconnects. */
  retryMs: number;
  /** Aborted when the API stops: the stream ends, and the client reconnects elsewhere. */
  closing: AbortSignal | undefined;
  /** A client this many events behind the hub is ended (it resumes from its position), not buffered for. */
  maxBuffered: number;
  /**
   * Asked at each heartbeat: false (the client's token was revoked) ends the stream, as a request would be refused
   * then; an EventSource's reconnect is then answered 401. None: never asked.
   */
  stillValid?: () => Promise<boolean>;
  now?: () => number;
}

/** Events read from the database at once while catching up. */
const PAGE = 500;
/** How soon a stream that reads on its own looks again when events wait behind the horizon. */
const PENDING_POLL_MS = 100;

export function eventStream(options: EventStreamOptions): ReadableStream<Uint8Array> {
  const stop = new AbortController();
  const encoder = new TextEncoder();
  const pieces = sse(options, stop.signal);
  const finish = () => {
    stop.abort();
    options.closing?.removeEventListener('abort', finish);
  };
  options.closing?.addEventListener('abort', finish, { once: true });
  if (options.closing?.aborted) finish();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { value, done } = await pieces.next();
        if (!done) return controller.enqueue(encoder.encode(value));
        finish();
        controller.close();
      } catch (error) {
        finish();
        controller.error(error);
      }
    },
    async cancel() {
      finish();
      await pieces.return(undefined);
    },
  });
}

function eventText(event: StreamEvent): string {
  return `id: ${formatPosition(event.position)}\nevent: ${event.kind}\ndata: ${JSON.stringify(streamEventView(event))}\n\n`;
}

async function* sse(options: EventStreamOptions, stop: AbortSignal): AsyncGenerator<string> {
  const now = options.now ?? Date.now;
  const deadline = options.endAfterMs === undefined ? Infinity : now() + options.endAfterMs;
  let through = options.start;
  let nextBeat = now() + options.heartbeatMs;
  const batches: EventBatch[] = [];
  let buffered = 0;
  let wake: (() => void) | undefined;
  const unsubscribe = options.hub?.subscribe((batch) => {
    batches.push(batch);
    buffered += batch.events.length;
    wake?.();
  });
  const woken = () => wake?.();
  stop.addEventListener('abort', woken);
  try {
    yield `retry: ${options.retryMs}\nid: ${formatPosition(through)}\n\n`;
    let catchUp = true;
    let pending = false;
    while (!stop.aborted && now() < deadline) {
      if (catchUp) {
        for (;;) {
          const read = await readEvents(options.db, through, options.filter, PAGE);
          for (const event of read.events) yield eventText(event);
          through = read.through;
          pending = read.pending;
          if (read.events.length < PAGE || stop.aborted) break;
        }
        catchUp = !options.hub;
      }
      while (batches.length > 0 && !stop.aborted) {
        const batch = batches.shift()!;
        buffered -= batch.events.length;
        // A batch that starts past this client's position leaves a hole (it subscribed after the batch before):
        // its own read fills it, and the batches queued behind are then taken for what they add.
        if (comparePositions(batch.after, through) > 0) {
          batches.unshift(batch);
          buffered += batch.events.length;
          catchUp = true;
          break;
        }
        for (const event of batch.events) {
          if (comparePositions(event.position, through) > 0 && matchesFilter(event, options.filter))
            yield eventText(event);
        }
        through = laterPosition(through, batch.through);
      }
      if (catchUp && options.hub) continue;
      if (buffered > options.maxBuffered) return;
      if (now() >= nextBeat) {
        if (options.stillValid && !(await options.stillValid())) return;
        yield `: keep-alive\nid: ${formatPosition(through)}\n\n`;
        nextBeat = now() + options.heartbeatMs;
      }
      if (batches.length > 0) continue;
      const untilPoll = options.hub ? Infinity : pending ? PENDING_POLL_MS : options.pollMs;
      await sleep(Math.max(0, Math.min(untilPoll, nextBeat - now(), deadline - now())), (resume) => (wake = resume));
      wake = undefined;
    }
    // The end of a bounded stream: the position reached, for the reconnect.
    if (!stop.aborted) yield `id: ${formatPosition(through)}\n\n`;
  } finally {
    unsubscribe?.();
    stop.removeEventListener('abort', woken);
  }
}

function sleep(ms: number, onWake: (resume: () => void) => void): Promise<void> {
  return new Promise((resume) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      resume();
    }
    onWake(done);
  });
}
