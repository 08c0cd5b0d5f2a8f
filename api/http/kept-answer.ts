import type { Context, TypedResponse } from 'hono';
import { REPLAYED_HEADER, type SubmitAnswer } from '../jobs/idempotent-submit.js';

/**
 * Sends a keyed submit's answer (api/jobs/idempotent-submit.ts): its kept JSON text byte for byte, with
 * `Idempotent-Replayed: true` when an earlier submit made the job. Typed as the route's JSON answer `T`, which the
 * text was rendered from when the job was made.
 */
export function sendKeptAnswer<T>(
  c: Context,
  answer: SubmitAnswer,
  headers: Record<string, string> = {},
): TypedResponse<T, 201, 'json'> {
  const response = c.body(answer.body, 201, {
    ...headers,
    'Content-Type': 'application/json',
    ...(answer.replayed ? { [REPLAYED_HEADER]: 'true' } : {}),
  });
  return response as unknown as TypedResponse<T, 201, 'json'>;
}
