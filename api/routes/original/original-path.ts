/**
 * What every original SCNS-Conductor path shares: the mark that gives its errors the original's shapes, and its
 * job ids, which the original took as any integer (a FastAPI `int` path parameter).
 */
import { z } from '@hono/zod-openapi';
import { createMiddleware } from 'hono/factory';
import type { AppEnv } from '../../app-env.js';
import { JobNotFound } from '../../http/errors.js';

/** First in an original route's middleware: its validation errors are then FastAPI's list (`http/problem.ts`). */
export const originalPath = createMiddleware<AppEnv>(async (c, next) => {
  c.set('originalPath', true);
  await next();
});

export const OriginalJobIdParam = z.object({
  job_id: z
    .string()
    .regex(/^[+-]?\d+$/, 'must be an integer')
    .openapi({ param: { name: 'job_id', in: 'path' }, example: '42' }),
});

/**
 * The job id of an original path. An integer the original took but no job can have (0, negative, or past what a
 * JavaScript number holds exactly) is a job that does not exist: 404, as the original answered.
 */
export function originalJobId(param: string): number {
  const id = Number(param);
  if (!Number.isSafeInteger(id) || id < 1) throw new JobNotFound(param);
  return id;
}
