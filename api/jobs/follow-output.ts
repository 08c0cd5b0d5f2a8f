/**
 * Following a running job's output: a byte stream that grows as the node ships, and ends when the attempt is over.
 * It ends cleanly only then; anything else that stops it (the store failing, the API stopping) errors the stream, so
 * that the client sees a broken transfer and follows again from the offset it reached, instead of taking a cut-off
 * stream for the whole output.
 */
import type { JobRow } from '../../shared/db/schema.js';
import { isTerminal } from '../../shared/job/job-state.js';
import { readRange } from '../../shared/logs/log-reader.js';
import type { LogStore, LogStreamId } from '../../shared/logs/log-store.js';
import { ApiStopping } from '../http/errors.js';

export interface Follow {
  store: LogStore;
  /** The attempt followed: one that has not started yet (a PENDING job's next) is waited for. */
  id: LogStreamId;
  offset: number;
  /** The job as it is now: following ends once this attempt is over. */
  reload(): Promise<JobRow>;
  pollMs: number;
  /** At most this many bytes are read from the store at once. */
  chunkBytes: number;
  /** Aborted when the API stops: followers are cut off (they resume elsewhere), not left hanging. */
  closing: AbortSignal | undefined;
  /**
   * Work on a timer while the stream is open, whether or not the client reads (api/follows/follow-guard.ts): each
   * runs every `everyMs`, never twice at once; one that throws ends the stream with its error (a revoked token).
   */
  upkeep?: { everyMs: number; run(): Promise<void> }[];
  /** Called once when the stream ends, however it ends (its follow lease is given back). */
  onEnd?: () => void;
}

/** The stream, read as the client reads it: nothing is fetched from the store before the client wants it. */
export function followStream(follow: Follow): ReadableStream<Uint8Array> {
  // Ends the polling when the client goes or the API stops (a pending read would otherwise poll on until the job
  // prints).
  const done = new AbortController();
  const pieces = followOutput(follow, done.signal);
  let stopping: (() => void) | undefined;
  const timers: ReturnType<typeof setInterval>[] = [];
  let ended = false;
  const finish = () => {
    done.abort();
    if (stopping) follow.closing?.removeEventListener('abort', stopping);
    for (const timer of timers) clearInterval(timer);
    if (!ended) follow.onEnd?.();
    ended = true;
  };
  return new ReadableStream<Uint8Array>({
    start(controller) {
      // At once, whatever the follower is doing: waiting on a slow client, or catching up on a backlog.
      stopping = () => {
        finish();
        controller.error(new ApiStopping());
      };
      if (follow.closing?.aborted) return stopping();
      follow.closing?.addEventListener('abort', stopping, { once: true });
      for (const { everyMs, run } of follow.upkeep ?? []) {
        let running = false;
        const tick = () => {
          if (running || ended) return;
          running = true;
          run().then(
            () => (running = false),
            (error: unknown) => {
              finish();
              try {
                controller.error(error);
              } catch {
                // Ended already.
              }
            },
          );
        };
        timers.push(setInterval(tick, everyMs));
      }
    },
    async pull(controller) {
      try {
        const { value, done: ended } = await pieces.next();
        if (!ended) return controller.enqueue(value);
        finish();
        controller.close();
      } catch (error) {
        finish();
        try {
          controller.error(error);
        } catch {
          // Errored already, by the stop.
        }
      }
    },
    cancel: finish,
  });
}

/**
 * The stream from `offset` as it grows, until the attempt is over and everything stored has been read. A node stores
 * all of a run's output before it reports the end, so a read after the end was seen misses nothing.
 */
async function* followOutput(follow: Follow, stop: AbortSignal): AsyncGenerator<Uint8Array> {
  const { id } = follow;
  let { offset } = follow;
  const wait = async () => {
    await new Promise<void>((resume) => {
      const early = () => {
        clearTimeout(timer);
        resume();
      };
      const timer = setTimeout(() => {
        stop.removeEventListener('abort', early);
        resume();
      }, follow.pollMs);
      stop.addEventListener('abort', early, { once: true });
    });
    stop.throwIfAborted();
  };
  for (;;) {
    stop.throwIfAborted();
    const job = await follow.reload();
    if (job.attempt >= id.attempt) break;
    // Ended (cancelled) before this attempt ever started: it has no output.
    if (isTerminal(job.state)) return;
    await wait();
  }
  let over = false;
  // Where a chunk starts, once known: every poll at the end of the stream then lists from there, not from before.
  let atChunkStart = offset === 0;
  for (;;) {
    stop.throwIfAborted();
    const read = await readRange(follow.store, id, offset, follow.chunkBytes, { atChunkStart });
    atChunkStart = read.nextAtChunkStart;
    if (read.bytes.length > 0) {
      offset = read.next;
      yield read.bytes;
      continue;
    }
    if (over) return;
    const job = await follow.reload();
    // Over: ended, or requeued as a later attempt. One more read takes what was stored before the end was told.
    over = isTerminal(job.state) || job.attempt > id.attempt;
    if (!over) await wait();
  }
}
