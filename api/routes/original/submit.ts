import { createRoute, type z } from '@hono/zod-openapi';
import { parseOriginalTimeLimit } from '../../../shared/job/original-time-limit.js';
import type { App } from '../../app-env.js';
import { requirePrincipal } from '../../auth/require-principal.js';
import { submitJob } from '../../jobs/submit-job.js';
import { submitJobOnce } from '../../jobs/idempotent-submit.js';
import { KEY_FIELD, KEY_HEADER, readIdempotencyKey, requestHash, tokenUser } from '../../jobs/idempotency-key.js';
import { ValidationFailed } from '../../http/errors.js';
import { sendKeptAnswer } from '../../http/kept-answer.js';
import { originalValidationResponse, problemResponses } from '../../http/problem.js';
import { readOriginalBody } from './original-body.js';
import { jsonWithoutContentType, originalPath } from './original-path.js';
import { OriginalSubmitRequest, SubmitResponse } from './schema.js';

const route = createRoute({
  method: 'post',
  path: '/jobs/submit',
  tags: ['Original'],
  summary: 'Submit a job (original path)',
  description:
    'The original body, read as the original read it: time_limit "1:30" is an hour and a half (on /v1, Slurm\'s 90 seconds), "0" is no limit, "4" is 4, a body sent without a Content-Type is JSON, and fields it does not know are ignored (named in the job\'s warnings, which /v1 shows). With `job.idempotency_key`, a submit is made at most once: a retry with the key and the same body within 24 h is answered with the first job (same status and body), the same key with another body is refused (422). Every 5xx of this path is safe to retry with the same key.',
  security: [{ bearer: [] }],
  middleware: [originalPath, jsonWithoutContentType, requirePrincipal('admin', 'user')] as const,
  request: { body: { required: true, content: { 'application/json': { schema: OriginalSubmitRequest } } } },
  responses: {
    201: { description: 'The new job id', content: { 'application/json': { schema: SubmitResponse } } },
    ...problemResponses(401, 403, 413, 415, 503),
    ...originalValidationResponse,
  },
});

export function registerOriginalSubmit(app: App): void {
  app.openapi(route, async (c) => {
    // Hono keeps the parsed body: this is the JSON the validator read, with every key it had.
    const raw: unknown = await c.req.json();
    const { request, warnings, idempotencyKey } = readOriginalBody(raw, c.req.valid('json'));
    const reading = { timeLimit: (value: unknown) => parseOriginalTimeLimit(String(value)), warnings };
    // The body's field, as the original's clients send it, or the header /v1 takes: one key, said once or alike.
    const fromBody = readIdempotencyKey(idempotencyKey, KEY_FIELD);
    const fromHeader = readIdempotencyKey(c.req.header('Idempotency-Key'), KEY_HEADER);
    if (fromBody !== undefined && fromHeader !== undefined && fromBody !== fromHeader) {
      throw new ValidationFailed([
        { field: KEY_FIELD.field, message: 'differs from the Idempotency-Key header', input: idempotencyKey },
      ]);
    }
    const key = fromBody ?? fromHeader;
    if (key === undefined) {
      const job = await submitJob(c.var.db, c.var.services, c.var.principal, request, reading);
      return c.json({ job_id: String(job.id) }, 201);
    }
    const once = {
      key,
      field: fromBody !== undefined ? KEY_FIELD.field : KEY_HEADER.field,
      requestHash: await requestHash('POST /jobs/submit', tokenUser(c.var.principal), raw),
      render: (job: { id: number }) => JSON.stringify({ job_id: String(job.id) }),
    };
    const answer = await submitJobOnce(c.var.db, c.var.services, c.var.principal, request, once, reading);
    return sendKeptAnswer<z.infer<typeof SubmitResponse>>(c, answer);
  });
}
