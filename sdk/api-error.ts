/**
 * The API's refusals as one error type: every error answer is RFC 9457 problem+json with the API's `code` and, for
 * bad input, one entry per field (api/http/problem.ts); a gateway's non-JSON answer keeps its status.
 */
import type { components } from './openapi.generated.js';

export type Problem = components['schemas']['Problem'];

export class ConductorApiError extends Error {
  override name = 'ConductorApiError';
  /** The HTTP status. */
  readonly status: number;
  /** The API's code (`validation_failed`, `not_found`, …), or `http_<status>` when the answer was not problem+json. */
  readonly code: string;
  /** The fields that were refused and why, for validation errors. */
  readonly errors: { field: string; message: string }[];
  readonly requestId: string | undefined;

  constructor(status: number, problem: Partial<Problem> | undefined) {
    const fields = (problem?.errors ?? []).map((error) => `${error.field}: ${error.message}`);
    super(fields.length ? fields.join('; ') : (problem?.detail ?? problem?.title ?? `HTTP ${status}`));
    this.status = status;
    this.code = problem?.code ?? `http_${status}`;
    this.errors = problem?.errors ?? [];
    this.requestId = problem?.request_id;
  }

  /** Worth trying again later with the same request: the API or a service behind it was away (429, 502-504). */
  get retryable(): boolean {
    return this.status === 429 || (this.status >= 502 && this.status <= 504);
  }
}

/** The error of a non-2xx answer, from its body as openapi-fetch read it (problem+json, or text from a gateway). */
export function apiErrorOf(response: Response, body: unknown): ConductorApiError {
  return new ConductorApiError(response.status, typeof body === 'object' && body !== null ? body : undefined);
}
