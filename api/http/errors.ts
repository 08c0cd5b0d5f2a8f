/**
 * Every error the API answers with on purpose. Each has a stable `code` and an HTTP status; `problem.ts` turns them
 * into application/problem+json in one place. Anything else that reaches the error handler is a fault: a 500 whose
 * text is never shown to the client.
 */
import { formatDirectiveProblem, type DirectiveProblem } from '../../shared/job/directive-error.js';

/**
 * What was wrong with a field, in pydantic's names (the original paths show them): absent, not JSON at all, or of
 * another JSON type. Absent from a FieldError: a value of the right type that the field's rules refused.
 */
export type FieldErrorType =
  'missing' | 'json_invalid' | 'string_type' | 'int_type' | 'bool_type' | 'dict_type' | 'list_type';

export interface FieldError {
  /** Dotted path of the field: `job.time_limit`, `job.environment.0`, `job_id`. */
  field: string;
  message: string;
  /** Where the field was sent, when not in the JSON body. */
  in?: 'path' | 'query' | 'header';
  /**
   * The value sent, or for a missing field the object it is missing from: the original paths show it, as FastAPI's
   * `input` did.
   */
  input?: unknown;
  type?: FieldErrorType;
}

export class ApiError extends Error {
  constructor(
    readonly status: 400 | 401 | 403 | 404 | 409 | 410 | 413 | 415 | 422 | 429 | 503,
    readonly code: string,
    readonly title: string,
    detail: string,
    readonly errors?: FieldError[],
  ) {
    super(detail);
  }
}

export class ValidationFailed extends ApiError {
  constructor(errors: FieldError[]) {
    const fields = [...new Set(errors.map((error) => error.field))].join(', ');
    super(422, 'validation_failed', 'Invalid request', `Invalid value for ${fields}`, errors);
  }
}

/** A script whose #SBATCH / #CONDUCTOR directives cannot be honoured: one entry per problem, naming its line. */
export class DirectivesInvalid extends ValidationFailed {
  constructor(problems: readonly DirectiveProblem[]) {
    super(problems.map((problem) => ({ field: 'script', message: formatDirectiveProblem(problem) })));
  }
}

/**
 * A submit's idempotency key that an earlier submit of another request already holds (issue 13, item 2): the same key
 * must mean the same request, compared as canonical JSON.
 */
export class IdempotencyKeyReused extends ApiError {
  constructor(field: 'Idempotency-Key' | 'job.idempotency_key') {
    super(
      422,
      'idempotency_key_reused',
      'Idempotency key reused',
      `${field} was sent within the last 24 hours with another request: send a new key for a new job`,
      [
        {
          field,
          message: 'already used with another request body',
          ...(field === 'Idempotency-Key' ? { in: 'header' as const } : {}),
        },
      ],
    );
  }
}

export class MalformedBody extends ApiError {
  constructor(detail: string) {
    super(400, 'malformed_body', 'Malformed request body', detail);
  }
}

export class PayloadTooLarge extends ApiError {
  constructor(maxBytes: number) {
    super(413, 'payload_too_large', 'Request body too large', `The request body must be at most ${maxBytes} bytes`);
  }
}

export class UnsupportedMediaType extends ApiError {
  constructor() {
    super(415, 'unsupported_media_type', 'Unsupported media type', 'Send the body as application/json');
  }
}

export class Unauthenticated extends ApiError {
  constructor(detail: string) {
    super(401, 'unauthenticated', 'Authentication required', detail);
  }
}

export class Forbidden extends ApiError {
  constructor(detail: string) {
    super(403, 'forbidden', 'Forbidden', detail);
  }
}

/** A request made with the console's session cookie that is not the console's own (api/auth/csrf-token.ts). */
export class CrossSiteRefused extends ApiError {
  constructor(detail: string) {
    super(403, 'cross_site_refused', 'Cross-site request refused', detail);
  }
}

/**
 * A console sign-in from a page over plain http to a host other than loopback: its browser would drop the Secure
 * session cookie (api/auth/session-cookie.ts) and the sign-in would silently come back to itself.
 */
export class InsecureConsoleOrigin extends ApiError {
  constructor(origin: string) {
    super(
      400,
      'insecure_origin',
      'The console needs https here',
      `A browser keeps no session for ${origin}: plain http is only for 127.0.0.1, ::1 and localhost. Open the console over https (a TLS proxy in front of the API), or through an SSH tunnel to 127.0.0.1`,
    );
  }
}

export class TokenHasNoUser extends ApiError {
  constructor(tokenId: number) {
    super(
      403,
      'token_has_no_user',
      'Token has no Unix user',
      `This user token (id ${tokenId}) has no Unix user to run its jobs as: an admin must set one (PATCH /v1/tokens/${tokenId} with {"user": "<login>"}) before it can submit`,
    );
  }
}

/** A node token used for a partition its node was not enrolled to serve (issue 12, item 5). */
export class PartitionNotGranted extends ApiError {
  constructor(node: string, partition: string, granted: readonly string[]) {
    super(
      403,
      'partition_not_granted',
      'Partition not granted',
      `Node "${node}" may not serve partition "${partition}": its token grants ${granted.join(', ')}`,
    );
  }
}

export class RouteNotFound extends ApiError {
  constructor(method: string, path: string) {
    super(404, 'route_not_found', 'Not found', `No route for ${method} ${path}`);
  }
}

export class JobNotFound extends ApiError {
  constructor(id: string) {
    super(404, 'job_not_found', 'Job not found', `Job ${id} does not exist`);
  }
}

export class NodeNotFound extends ApiError {
  constructor(name: string) {
    super(404, 'node_not_found', 'Node not found', `Node ${name} has never sent a heartbeat`);
  }
}

export class TokenNotFound extends ApiError {
  constructor(id: string) {
    super(404, 'token_not_found', 'Token not found', `Token ${id} does not exist`);
  }
}

export class WebhookNotFound extends ApiError {
  constructor(id: string) {
    super(404, 'webhook_not_found', 'Webhook not found', `Webhook ${id} does not exist`);
  }
}

export class DeliveryNotFound extends ApiError {
  constructor(webhook: string, id: string) {
    super(404, 'delivery_not_found', 'Delivery not found', `Webhook ${webhook} has no delivery ${id}`);
  }
}

export class PartitionNotFound extends ApiError {
  constructor(name: string) {
    super(404, 'partition_not_found', 'Partition not found', `Partition ${name} does not exist`);
  }
}

/** A partition that may not be deleted now: the default one, or one with pending or running jobs. */
export class PartitionInUse extends ApiError {
  constructor(name: string, why: string) {
    super(409, 'partition_in_use', 'Partition in use', `Partition ${name} cannot be deleted: ${why}`);
  }
}

export class InvalidTransition extends ApiError {
  constructor(id: string, from: string, to: string) {
    super(409, 'invalid_transition', 'Invalid state transition', `Job ${id} is ${from} and cannot become ${to}`);
  }
}

/**
 * A request only a PENDING job answers: GET /v1/jobs/{id}/why (only a waiting job has a reason to explain), a hold,
 * a release, an update (issue 20). `why`: what that means for this request.
 */
export class JobNotPending extends ApiError {
  constructor(id: string, state: string, why = 'it waits for nothing') {
    super(409, 'job_not_pending', 'Job not pending', `Job ${id} is ${state}, not PENDING: ${why}`);
  }
}

/** A principal holds as many open follow streams as it may (CONDUCTOR_MAX_FOLLOWS; issue 12, item 7). */
export class TooManyFollows extends ApiError {
  constructor(
    max: number,
    /** Sent as Retry-After (RFC 9110, 10.2.3): when the soonest lease lapses, if no stream of this token ends first. */
    readonly retryAfterSeconds: number,
  ) {
    super(
      429,
      'too_many_follows',
      'Too many follow streams',
      `This token already has ${max} follow streams open, the most it may; end one, or retry in ${retryAfterSeconds} s`,
    );
  }
}

/**
 * A submit over one of its account's submit-time limits (issue 19, item 2): `code` is the limit's name, e.g.
 * `max_pending_jobs`; `retryAfterSeconds` is sent as Retry-After.
 */
export class AccountLimitReached extends ApiError {
  constructor(
    limit: string,
    detail: string,
    /** Sent as Retry-After (RFC 9110, 10.2.3). */
    readonly retryAfterSeconds: number,
  ) {
    super(429, limit, 'Account limit reached', detail);
  }
}

export class AccountNotFound extends ApiError {
  constructor(name: string) {
    super(404, 'account_not_found', 'Account not found', `Account ${name} has no limits set (no such account row)`);
  }
}

export class DatabaseUnavailable extends ApiError {
  constructor() {
    super(503, 'database_unavailable', 'Database unavailable', 'The database did not answer');
  }
}

export class QueueUnavailable extends ApiError {
  constructor() {
    super(503, 'queue_unavailable', 'Queue unavailable', 'The dispatch queue did not answer');
  }
}

/**
 * The host's own configuration is missing or refuses a variable (a Worker's are read at its first request, so it
 * cannot refuse to start as the Node host does). Names each variable and what is wrong, never a value: some are
 * secrets. `howToSet` is the host's way of setting one.
 */
export class HostMisconfigured extends ApiError {
  constructor(issues: readonly { variable: string; message: string }[], howToSet: string) {
    super(
      503,
      'host_misconfigured',
      'Host misconfigured',
      `This API cannot serve requests until its configuration is fixed: ${issues
        .map(({ variable, message }) => `${variable} ${message}`)
        .join('; ')}. ${howToSet}`,
    );
  }
}

/** Readiness failed: public, so it names neither the service nor the error. */
export class NotReady extends ApiError {
  constructor() {
    super(503, 'not_ready', 'Not ready', 'This API process cannot serve requests now');
  }
}

export class LogStoreUnavailable extends ApiError {
  constructor() {
    super(503, 'log_store_unavailable', 'Log store unavailable', 'The log store did not answer');
  }
}

/** The host was given no console build (dist/ui): `npm run build:ui` makes it (npm install runs it). */
export class ConsoleNotBuilt extends ApiError {
  constructor() {
    super(
      503,
      'console_not_built',
      'Console not built',
      'The web console and the API reference are not built on this host: run `npm run build:ui`',
    );
  }
}

export class LogsNotConfigured extends ApiError {
  constructor() {
    super(
      503,
      'logs_not_configured',
      'No log store',
      'This API has no log store configured: job output is not kept (see the README, "Job output")',
    );
  }
}

/** The job's stored output was deleted after CONDUCTOR_OUTPUT_RETENTION_DAYS (api/jobs/purge-jobs.ts). */
export class OutputExpired extends ApiError {
  constructor(id: number, purgedAt: Date) {
    super(
      410,
      'output_expired',
      'Output deleted',
      `The output of job ${id} was deleted at ${purgedAt.toISOString()}, past its retention (CONDUCTOR_OUTPUT_RETENTION_DAYS)`,
    );
  }
}

export class ProtocolUnsupported extends ApiError {
  constructor(sent: string, served: readonly number[]) {
    super(
      400,
      'protocol_unsupported',
      'Protocol version not served',
      `This API serves node protocol versions ${served.slice(0, -1).join(', ')} and ${served.at(-1)}; the request says "${sent}": upgrade the older side`,
    );
  }
}

export class ApiStopping extends ApiError {
  constructor() {
    super(
      503,
      'stopping',
      'Stopping',
      'This API process is stopping: ask again (another process, or this one restarted)',
    );
  }
}

export class RetryableConflict extends ApiError {
  constructor() {
    super(503, 'retry', 'Try again', 'The request lost a race with another one and changed nothing; send it again');
  }
}

/**
 * An event stream resumed from a cursor older than what is kept (api/events/event-retention.ts): events after it were
 * deleted, so resuming would silently skip them. A 410 also stops a browser's EventSource from retrying the same id.
 */
export class CursorExpired extends ApiError {
  constructor(cursor: string) {
    super(
      410,
      'cursor_expired',
      'Events deleted',
      `Events after ${cursor} were deleted past their retention (CONDUCTOR_EVENT_RETENTION_DAYS, CONDUCTOR_EVENT_MAX_ROWS); connect again without Last-Event-ID to follow from now`,
    );
  }
}
