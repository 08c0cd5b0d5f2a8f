/**
 * What the original SCNS-Conductor's paths share: the mark that gives their errors the original's shapes, bodies
 * read as JSON without a Content-Type (as FastAPI read them), and job ids taken as any integer (a FastAPI `int` path
 * parameter).
 */
import { z } from '@hono/zod-openapi';
import { createMiddleware } from 'hono/factory';
import type { AppEnv } from '../../app-env.js';
import { JobNotFound } from '../../http/errors.js';
import { PYDANTIC_INT_TEXT } from './pydantic-lax.js';

/** First in an original route's middleware: its validation errors are then FastAPI's list (`http/problem.ts`). */
export const originalPath = createMiddleware<AppEnv>(async (c, next) => {
  c.set('originalPath', true);
  await next();
});

/**
 * FastAPI read a body as JSON when no Content-Type was sent (Python's `requests.post(url, data=json.dumps(body))`
 * sends none); the validators here want one, so it is named before they run.
 */
export const jsonWithoutContentType = createMiddleware<AppEnv>(async (c, next) => {
  if (!c.req.header('Content-Type')) {
    const headers = new Headers(c.req.raw.headers);
    headers.set('Content-Type', 'application/json');
    // The depth screen (api/http/body-screen.ts) has read the body already: Hono keeps its text, which goes on.
    const { raw } = c.req;
    c.req.raw = raw.bodyUsed
      ? new Request(raw.url, { method: raw.method, headers, body: await c.req.text() })
      : new Request(raw, { headers });
  }
  await next();
});

export const OriginalJobIdParam = z.object({
  job_id: z
    .string()
    .regex(PYDANTIC_INT_TEXT, 'must be an integer')
    .openapi({ param: { name: 'job_id', in: 'path' }, example: '42' }),
});

/**
 * The job id of an original path. An integer the original took but no job can have (0, negative, or past what a
 * JavaScript number holds exactly) is a job that does not exist: 404, as the original answered.
 */
export function originalJobId(param: string): number {
  const id = Number(param.replaceAll('_', '').trim());
  if (!Number.isSafeInteger(id) || id < 1) throw new JobNotFound(param);
  return id;
}
