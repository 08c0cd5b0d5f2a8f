/**
 * The one place where errors become application/problem+json (RFC 9457): the app's onError, its notFound, and the
 * validation hook of every route. Also the Problem schema and the error responses that routes spread into their
 * OpenAPI definitions.
 */
import { z, type Hook } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ZodError } from 'zod';
import { serviceFault } from './service-fault.js';
import {
  ApiError,
  MalformedBody,
  RouteNotFound,
  UnsupportedMediaType,
  ValidationFailed,
  type FieldError,
} from './errors.js';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

export const Problem = z
  .object({
    type: z.string().openapi({ example: 'urn:conductor:problem:validation_failed' }),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    code: z.string().openapi({ example: 'validation_failed' }),
    request_id: z.string(),
    errors: z
      .array(z.object({ field: z.string().openapi({ example: 'job.time_limit' }), message: z.string() }))
      .optional()
      .openapi({ description: 'One entry per invalid field, for validation errors.' }),
  })
  .openapi('Problem');

const DESCRIPTIONS = {
  400: 'Malformed request',
  401: 'Missing, unknown or revoked token',
  403: 'The token may not do this',
  404: 'Not found, or not visible to this token',
  409: 'The job is not in a state that allows this',
  413: 'Request body too large',
  415: 'The body is not application/json',
  422: 'Invalid field values; `errors` names each field',
  503: 'The database, the queue or the log store did not answer, the request lost a race, or the process is stopping: retry',
} as const;

type ProblemStatus = keyof typeof DESCRIPTIONS;

/** The error responses of a route, for its OpenAPI definition. Auth errors are on every authenticated route. */
export function problemResponses<S extends ProblemStatus>(...statuses: S[]) {
  return Object.fromEntries(
    statuses.map((status) => [
      status,
      { description: DESCRIPTIONS[status], content: { [PROBLEM_CONTENT_TYPE]: { schema: Problem } } },
    ]),
  ) as unknown as Record<S, { description: string; content: { [PROBLEM_CONTENT_TYPE]: { schema: typeof Problem } } }>;
}

export function problemResponse(c: Context, error: ApiError): Response {
  const body: z.infer<typeof Problem> = {
    type: `urn:conductor:problem:${error.code}`,
    title: error.title,
    status: error.status,
    detail: error.message,
    code: error.code,
    request_id: c.get('requestId') ?? '',
    ...(error.errors ? { errors: error.errors } : {}),
  };
  return c.body(JSON.stringify(body), error.status, { 'Content-Type': PROBLEM_CONTENT_TYPE });
}

export function onError(error: Error, c: Context): Response {
  if (error instanceof ApiError) return problemResponse(c, error);
  // Hono's own refusals: a body that does not parse, or one that is not JSON at all.
  if (error instanceof HTTPException && error.status === 400)
    return problemResponse(c, new MalformedBody(error.message));
  if (error instanceof HTTPException && error.status === 415) return problemResponse(c, new UnsupportedMediaType());
  const fault = serviceFault(error);
  if (fault) return problemResponse(c, fault);
  // A fault: log it with the request id, tell the client nothing about it.
  console.error(`request ${c.get('requestId')} failed:`, error);
  return c.body(
    JSON.stringify({
      type: 'urn:conductor:problem:internal_error',
      title: 'Internal error',
      status: 500,
      detail: 'The server failed to answer this request; quote the request id when reporting it',
      code: 'internal_error',
      request_id: c.get('requestId') ?? '',
    }),
    500,
    { 'Content-Type': PROBLEM_CONTENT_TYPE },
  );
}

export function onNotFound(c: Context): Response {
  return problemResponse(c, new RouteNotFound(c.req.method, c.req.path));
}

/** The validation hook of every route: a failed parse becomes a 422 that names each field. */
export const validationHook: Hook<unknown, any, any, unknown> = (result) => {
  if (!result.success) throw new ValidationFailed(fieldErrors(result.error));
};

export function fieldErrors(error: ZodError): FieldError[] {
  return error.issues.flatMap((issue) => {
    const at = issue.path.map(String);
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({ field: [...at, key].join('.'), message: 'unknown field' }));
    }
    return [{ field: at.join('.') || '(body)', message: issue.message }];
  });
}
