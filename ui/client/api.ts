/**
 * The console's API client: the SDK's typed client (sdk/, openapi-fetch over the committed contract) on this origin,
 * authenticated by the session cookie the browser sends on its own (same origin; the console never holds the token).
 * Every write carries the session's CSRF token (api/auth/csrf-token.ts); any 401 means the session ended (signed out
 * elsewhere, or its token revoked) and sends the page to sign-in.
 */
import { createConductorClient, type components } from '../../sdk/index.js';

export type Job = components['schemas']['Job'];
export type Problem = components['schemas']['Problem'];
export type WhyPending = components['schemas']['WhyPending'];

/** GET /ui/session's answer (api/console/session-routes.ts). */
export interface Session {
  kind: 'admin' | 'user';
  name: string;
  account: string | null;
  user: string | null;
  csrf_token: string;
}

const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
let csrfToken: string | undefined;
let onSignedOut: () => void = () => {};

/** Called whenever an answer says the session is over (401); the app sends the reader to sign-in. */
export function whenSignedOut(listener: () => void): void {
  onSignedOut = listener;
}

/** The browser's fetch, same-origin with the session cookie, the CSRF header on writes, and 401 noticed. */
export async function consoleFetch(input: Request | string, init?: RequestInit): Promise<Response> {
  const request = new Request(input, { credentials: 'same-origin', ...init });
  if (UNSAFE.has(request.method) && csrfToken) request.headers.set('X-CSRF-Token', csrfToken);
  const response = await fetch(request);
  if (response.status === 401) {
    csrfToken = undefined;
    onSignedOut();
  }
  return response;
}

/** The API, typed: `api.GET('/v1/jobs', { params: { query: { state: 'RUNNING' } } })`. */
export const api = createConductorClient({ url: window.location.origin, fetch: (request) => consoleFetch(request) });

/** Who is signed in, or null. */
export async function readSession(): Promise<Session | null> {
  const response = await fetch('/ui/session', { credentials: 'same-origin', headers: { Accept: 'application/json' } });
  if (response.status === 401 || response.status === 403) return null;
  if (!response.ok) throw await problemOf(response);
  const session = (await response.json()) as Session;
  csrfToken = session.csrf_token;
  return session;
}

/** Signs in with `token`; answers the session, or throws the API's problem (401 unknown token, 403 node token). */
export async function signIn(token: string): Promise<Session> {
  const response = await fetch('/ui/session', {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
    body: JSON.stringify({ token }),
  });
  if (!response.ok) throw await problemOf(response);
  const session = (await response.json()) as Session;
  csrfToken = session.csrf_token;
  return session;
}

export async function signOut(): Promise<void> {
  csrfToken = undefined;
  await fetch('/ui/session', { method: 'DELETE', credentials: 'same-origin' });
}

/** An API problem as an Error whose message is its detail (or title), keeping the problem itself. */
export class ApiProblem extends Error {
  constructor(readonly problem: Partial<Problem> & { status: number }) {
    super(problem.detail ?? problem.title ?? `HTTP ${problem.status}`);
  }
}

export async function problemOf(response: Response): Promise<ApiProblem> {
  const body = (await response.json().catch(() => ({}))) as Partial<Problem>;
  return new ApiProblem({ ...body, status: response.status });
}

/** The error an SDK call answered (its `error`), as an ApiProblem. */
export function problemFrom(error: unknown, response: Response): ApiProblem {
  return new ApiProblem({ ...(error as Partial<Problem>), status: response.status });
}
