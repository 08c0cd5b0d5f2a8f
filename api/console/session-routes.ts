/**
 * The console's sign-in (issue 18, item 2). Not part of the API's contract (they are absent from /openapi.json): they
 * exist for the console's page and speak only to a browser on this origin.
 * - POST /ui/session `{"token": "..."}` (JSON, never in a URL): checks the token as any request's (a user or admin
 *   token; a node token is refused) and sets the session cookie (api/auth/session-cookie.ts). 200 with the session;
 *   400 insecure_origin from a plain http page not on loopback, whose browser would not keep the cookie.
 * - GET /ui/session: who is signed in, and the CSRF token the page sends with its writes; 401 when no one is (a
 *   revoked token's cookie is cleared then).
 * - DELETE /ui/session: signs out (clears the cookie); 204.
 */
import type { Context } from 'hono';
import type { App, AppEnv } from '../app-env.js';
import { checkCookieRequest, csrfTokenOf, sameOrigin } from '../auth/csrf-token.js';
import type { Principal } from '../auth/principal.js';
import { clearSessionCookie, keepsSessionCookie, sessionTokenOf, setSessionCookie } from '../auth/session-cookie.js';
import {
  CrossSiteRefused,
  Forbidden,
  InsecureConsoleOrigin,
  MalformedBody,
  Unauthenticated,
  UnsupportedMediaType,
  ValidationFailed,
} from '../http/errors.js';
import { consoleSecurityHeaders } from './security-headers.js';

/** What the console knows of its session: GET and POST /ui/session's answer. */
export interface ConsoleSession {
  kind: 'admin' | 'user';
  name: string;
  /** A user token's account and Unix user; null for an admin. */
  account: string | null;
  user: string | null;
  /** Sent back as X-CSRF-Token with every write (api/auth/csrf-token.ts). */
  csrf_token: string;
}

// Longer than any token this API makes, short enough that a pasted file is refused before it is hashed.
const MAX_TOKEN_LENGTH = 512;

async function sessionOf(principal: Principal, token: string): Promise<ConsoleSession> {
  if (principal.kind === 'node') throw new Forbidden('A node token cannot sign in to the console');
  return {
    kind: principal.kind,
    name: principal.name,
    account: principal.kind === 'user' ? principal.account : null,
    user: principal.kind === 'user' ? principal.user : null,
    csrf_token: await csrfTokenOf(token),
  };
}

async function tokenInBody(c: Context<AppEnv>): Promise<string> {
  if (!/\bjson\b/i.test(c.req.header('Content-Type') ?? '')) throw new UnsupportedMediaType();
  let body: unknown;
  try {
    body = await c.req.json();
  } catch {
    throw new MalformedBody('The body is not JSON');
  }
  const token = (body as { token?: unknown } | null)?.token;
  if (typeof token !== 'string' || !token.trim() || token.length > MAX_TOKEN_LENGTH || /\s/.test(token.trim())) {
    throw new ValidationFailed([{ field: 'token', message: 'must be a token: one word of at most 512 characters' }]);
  }
  return token.trim();
}

export function registerConsoleSession(app: App): void {
  // The console's headers (registered with its pages, after these routes, so not reaching them), and no answer kept
  // by a cache: each carries the session's CSRF token.
  app.use('/ui/session', consoleSecurityHeaders, async (c, next) => {
    await next();
    c.res.headers.set('Cache-Control', 'no-store');
  });
  app.post('/ui/session', async (c) => {
    // A page elsewhere must not sign a browser in to a session of its choosing (login CSRF).
    if (!sameOrigin(c)) throw new CrossSiteRefused('Sign in from the console page itself');
    // The page's own scheme, which a TLS proxy in front hides from the request's URL.
    const origin = c.req.header('Origin');
    if (origin !== undefined && !keepsSessionCookie(origin)) throw new InsecureConsoleOrigin(origin);
    const token = await tokenInBody(c);
    const principal = await c.var.services.authenticator.authenticate(c.var.db, `Bearer ${token}`);
    const session = await sessionOf(principal, token);
    setSessionCookie(c, token);
    return c.json(session, 200);
  });

  app.get('/ui/session', async (c) => {
    const token = sessionTokenOf(c);
    if (token === undefined) throw new Unauthenticated('Not signed in');
    await checkCookieRequest(c, token);
    try {
      const principal = await c.var.services.authenticator.authenticate(c.var.db, `Bearer ${token}`);
      return c.json(await sessionOf(principal, token), 200);
    } catch (error) {
      // Revoked, or a node token's cookie set by hand: forgotten, so the next page load starts at sign-in.
      if (error instanceof Unauthenticated || error instanceof Forbidden) clearSessionCookie(c);
      throw error;
    }
  });

  app.delete('/ui/session', (c) => {
    if (!sameOrigin(c)) throw new CrossSiteRefused('Sign out from the console page itself');
    clearSessionCookie(c);
    return c.body(null, 204);
  });
}
