/**
 * A job's output followed live, as an async iterator of byte chunks that survives disconnects: the API ends a follow
 * cleanly only once the attempt is over and everything it stored was sent (api/jobs/follow-output.ts); any other end
 * (a dropped connection, an API restart, a store fault) is a broken transfer, after which this follows again from the
 * byte it had reached, of the same attempt, so that no byte is lost or repeated.
 */
import { Backoff, type BackoffSchedule } from '../shared/backoff.js';
import { apiErrorOf, ConductorApiError } from './api-error.js';
import type { ConductorClient } from './conductor-client.js';
import { delay } from './delay.js';

export interface FollowOptions {
  stream?: 'stdout' | 'stderr';
  /** The byte to start at (0 by default): the offset a previous follow reached resumes it. */
  offset?: number;
  /** Which attempt; the latest (or a PENDING job's next) by default. Kept once known, across reconnects. */
  attempt?: number;
  /** Failed reconnects in a row before giving up; 10 by default. A reconnect that gets an answer starts it over. */
  retries?: number;
  /** The pauses between reconnects; 250 ms doubling up to 10 s by default. */
  backoff?: BackoffSchedule;
  signal?: AbortSignal;
}

const DEFAULT_BACKOFF: BackoffSchedule = { minMs: 250, maxMs: 10_000 };

/**
 * The job's output from `offset` on, chunk by chunk as the API sends it, until the attempt has ended and all of it
 * was received. `GET /v1/jobs/{id}/logs/{stream}?follow=true`.
 * @throws ConductorApiError when the API refuses (no such job, not yours: 4xx), or stays away past the retries
 */
export async function* followLogs(
  client: ConductorClient,
  jobId: string | number,
  options: FollowOptions = {},
): AsyncGenerator<Uint8Array, void, undefined> {
  const backoff = new Backoff(options.backoff ?? DEFAULT_BACKOFF);
  let offset = options.offset ?? 0;
  let attempt = options.attempt;
  for (let failures = 0; ;) {
    let failure: unknown;
    try {
      const { data, error, response } = await client.GET('/v1/jobs/{id}/logs/{stream}', {
        params: {
          path: { id: String(jobId), stream: options.stream ?? 'stdout' },
          query: { offset: String(offset), follow: 'true', ...(attempt ? { attempt: String(attempt) } : {}) },
        },
        parseAs: 'stream',
        signal: options.signal,
      });
      if (!data) {
        failure = apiErrorOf(response, error);
      } else {
        attempt ??= Number(response.headers.get('Conductor-Attempt')) || undefined;
        failures = 0;
        backoff.reset();
        const reader = (data as ReadableStream<Uint8Array>).getReader();
        for (;;) {
          const { done, value } = await reader.read();
          if (done) return;
          offset += value.byteLength;
          yield value;
        }
      }
    } catch (error) {
      if (options.signal?.aborted) throw error;
      failure = error;
    }
    if (failure instanceof ConductorApiError && !failure.retryable) throw failure;
    if (++failures > (options.retries ?? 10)) throw failure;
    await delay(backoff.next(), options.signal);
  }
}
