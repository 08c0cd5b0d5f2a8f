/**
 * Submitting a job so that it is made once however often the request is sent: one Idempotency-Key for the submit and
 * all its retries (the API answers a key it has seen with the first answer, for 24 h; api/jobs/idempotent-submit.ts),
 * retried while the API is unreachable or says it is away (429, 502-504).
 */
import { Backoff, type BackoffSchedule } from '../shared/backoff.js';
import { apiErrorOf, ConductorApiError } from './api-error.js';
import type { ConductorClient } from './conductor-client.js';
import { delay } from './delay.js';
import type { components } from './openapi.generated.js';

export type SubmitRequest = components['schemas']['SubmitRequest'];
export type SubmittedJob = components['schemas']['Job'];

export interface SubmitOptions {
  /** The submit's key; a new UUID by default. Give your own to make a submit idempotent across processes. */
  idempotencyKey?: string;
  /** How many times to send it again after a failure worth retrying; 5 by default. */
  retries?: number;
  /** The pauses between tries; 250 ms doubling up to 5 s by default. */
  backoff?: BackoffSchedule;
  signal?: AbortSignal;
}

const DEFAULT_BACKOFF: BackoffSchedule = { minMs: 250, maxMs: 5000 };

/**
 * Submits the job: `POST /v1/jobs`. Answers the job as the API made it (PENDING), the same job for every retry.
 * @throws ConductorApiError when the API refuses it (a 4xx: bad input names its field), or is still away after the
 *   retries; the network's own error when it never answered
 */
export async function submitJob(
  client: ConductorClient,
  request: SubmitRequest,
  options: SubmitOptions = {},
): Promise<SubmittedJob> {
  const key = options.idempotencyKey ?? crypto.randomUUID();
  const backoff = new Backoff(options.backoff ?? DEFAULT_BACKOFF);
  for (let tries = 0; ; tries += 1) {
    let failure: unknown;
    try {
      const { data, error, response } = await client.POST('/v1/jobs', {
        body: request,
        headers: { 'Idempotency-Key': key },
        signal: options.signal,
      });
      if (data) return data;
      failure = apiErrorOf(response, error);
    } catch (error) {
      if (options.signal?.aborted) throw error;
      // No answer at all: the request may or may not have been made, which the key makes harmless to ask again.
      failure = error;
    }
    if (failure instanceof ConductorApiError && !failure.retryable) throw failure;
    if (tries >= (options.retries ?? 5)) throw failure;
    await delay(backoff.next(), options.signal);
  }
}
