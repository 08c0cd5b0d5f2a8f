/**
 * The one place where errors become application/problem+json (RFC 9457): the app's onError, its notFound, and the
 * validation hook of every route. Also the Problem schema and the error responses that routes spread into their
 * OpenAPI definitions.
 */
import { z, type Hook } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ZodError } from 'zod';
import type { AppEnv } from '../app-env.js';
import { originalValidationDetail, OriginalValidationItem } from './original-detail.js';
import { serviceFault } from './service-fault.js';
import { faultReport } from './fault-report.js';
import { echo } from '../../shared/echo.js';
import type { Logger } from '../../shared/log/logger.js';
import { refuseLoneSurrogates } from './body-screen.js';
import {
  ApiError,
  MalformedBody,
  TooManyFollows,
  AccountLimitReached,
  RouteNotFound,
  UnsupportedMediaType,
  ValidationFailed,
  type FieldError,
  type FieldErrorType,
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

/** A 422 on an original path: `detail` is FastAPI's list, as the original's clients read it. */
export const OriginalValidationProblem = Problem.extend({
  detail: z.array(OriginalValidationItem),
}).openapi('OriginalValidationProblem');

const DESCRIPTIONS = {
  400: 'Malformed request',
  401: 'Missing, unknown or revoked token',
  403: 'The token may not do this',
  404: 'Not found, or not visible to this token',
  409: 'The job is not in a state that allows this',
  410: "The job's stored output was deleted past its retention (CONDUCTOR_OUTPUT_RETENTION_DAYS)",
  413: 'Request body too large',
  415: 'The body is not application/json',
  422: 'Invalid field values; `errors` names each field',
  429: "Too many open follow streams for this token, or a submit over its account's limit (`code` names the limit); `Retry-After` says when to try again",
  503: "The database, the queue or the log store did not answer, the request lost a race, or the process is stopping: retry; or the host's configuration is missing a variable (`host_misconfigured`, naming it)",
} as const;

type ProblemStatus = keyof typeof DESCRIPTIONS;

/** The 422 of an original path, for its OpenAPI definition. */
export const originalValidationResponse = {
  422: {
    description: `${DESCRIPTIONS[422]}; \`detail\` lists them as the original (FastAPI) did`,
    content: { [PROBLEM_CONTENT_TYPE]: { schema: OriginalValidationProblem } },
  },
};

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
  const body: Omit<z.infer<typeof Problem>, 'detail'> & {
    detail: string | z.infer<typeof OriginalValidationProblem>['detail'];
  } = {
    type: `urn:conductor:problem:${error.code}`,
    title: error.title,
    status: error.status,
    detail: error.errors && c.get('originalPath') === true ? originalValidationDetail(error.errors) : error.message,
    code: error.code,
    request_id: c.get('requestId') ?? '',
    ...(error.errors ? { errors: error.errors.map(({ field, message }) => ({ field, message })) } : {}),
  };
  return c.body(JSON.stringify(body), error.status, {
    'Content-Type': PROBLEM_CONTENT_TYPE,
    ...(error instanceof TooManyFollows || error instanceof AccountLimitReached
      ? { 'Retry-After': String(error.retryAfterSeconds) }
      : {}),
  });
}

export function onError(error: Error, c: Context): Response {
  if (error instanceof ApiError) return problemResponse(c, error);
  // Hono's own refusals: a body that does not parse, or one that is not JSON at all.
  if (error instanceof HTTPException && error.status === 400) {
    // FastAPI answered a body that is not JSON with a 422 naming it; the original's clients read that.
    if (c.get('originalPath') === true) {
      return problemResponse(
        c,
        new ValidationFailed([{ field: '(body)', message: error.message, type: 'json_invalid', input: {} }]),
      );
    }
    return problemResponse(c, new MalformedBody(error.message));
  }
  if (error instanceof HTTPException && error.status === 415) return problemResponse(c, new UnsupportedMediaType());
  const fault = serviceFault(error);
  if (fault) return problemResponse(c, fault);
  // A fault: log it with the request id (but nothing the request carried), tell the client nothing about it.
  const logger = (c as Context<AppEnv>).get('logger') as Logger | undefined;
  if (logger) logger.error('request failed', { fault: faultReport(error) });
  else console.error(`request ${c.get('requestId')} failed: ${faultReport(error)}`);
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

const LOCATIONS: Record<string, FieldError['in']> = { param: 'path', query: 'query', header: 'header' };

/** The validation hook of every route: a failed parse becomes a 422 that names each field. */
export const validationHook: Hook<unknown, AppEnv, string, unknown> = async (result, c) => {
  const { data, target } = result as unknown as { data: unknown; target: string };
  // The body as sent (a valid one's `data` is what the schema made of it; Hono keeps the parse).
  if (target === 'json')
    await refuseLoneSurrogates(await c.req.text(), async () => (result.success ? c.req.json() : data));
  if (!result.success) throw new ValidationFailed(fieldErrors(result.error, data, LOCATIONS[target]));
};

/** One entry per invalid field of `input` (what was sent, where: the body unless `location` says otherwise). */
export function fieldErrors(error: ZodError, input?: unknown, location?: FieldError['in']): FieldError[] {
  const where = location ? { in: location } : {};
  return error.issues.flatMap((issue) => {
    const at = issue.path.map(String);
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({ field: [...at, echo(key)].join('.'), message: 'unknown field', ...where }));
    }
    const sent = valueAt(input, issue.path);
    const type = issue.code === 'invalid_type' ? typeError(issue.expected, sent) : undefined;
    return [
      {
        field: at.join('.') || '(body)',
        message: issue.message,
        ...where,
        // As pydantic did: a missing field's input is the object it is missing from.
        input: type === 'missing' ? valueAt(input, issue.path.slice(0, -1)) : sent,
        ...(type ? { type } : {}),
      },
    ];
  });
}

const TYPE_ERRORS: Record<string, FieldErrorType> = {
  string: 'string_type',
  number: 'int_type',
  int: 'int_type',
  boolean: 'bool_type',
  object: 'dict_type',
  record: 'dict_type',
  array: 'list_type',
};

function typeError(expected: string, sent: unknown): FieldErrorType | undefined {
  return sent === undefined ? 'missing' : TYPE_ERRORS[expected];
}

function valueAt(value: unknown, path: PropertyKey[]): unknown {
  let current = value;
  for (const key of path) {
    if (current === null || typeof current !== 'object' || !Object.hasOwn(current, key)) return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}
