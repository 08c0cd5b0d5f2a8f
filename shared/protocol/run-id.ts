/** How the API and a node daemon name one run: a job and its attempt. */
import { z } from '@hono/zod-openapi';
import { ID_PATTERN } from '../names.js';

export const JobIdText = z.string().regex(ID_PATTERN, 'must be a job id');

// 2^31 - 1: the attempt column is a 32-bit integer; a bigger number is nobody's attempt.
export const Attempt = z
  .number()
  .int()
  .min(1)
  .max(2 ** 31 - 1);

export const RunId = z.object({ job_id: JobIdText, attempt: Attempt }).openapi('RunId');
export type RunId = z.infer<typeof RunId>;

/**
 * A node's confirm sequence (api/jobs/confirm-claims.ts): a bigint column, counted from 0; 2^53 - 1 keeps it exact in
 * JSON, and no node confirms that often.
 */
export const ConfirmSequence = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
