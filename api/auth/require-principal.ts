import { createMiddleware } from 'hono/factory';
import { Forbidden } from '../http/errors.js';
import type { AppEnv } from '../app-env.js';
import { checkCookieRequest } from './csrf-token.js';
import type { Principal } from './principal.js';
import { requestAuthorization } from './request-authorization.js';

/**
 * Authenticates the request (bearer header, or the console's session cookie) and lets through only the token kinds
 * named. A cookie-authenticated request must also be the console's own (api/auth/csrf-token.ts): 403 otherwise.
 */
export function requirePrincipal(...kinds: Principal['kind'][]) {
  return createMiddleware<AppEnv>(async (c, next) => {
    const { authorization, cookieToken } = requestAuthorization(c);
    const principal = await c.var.services.authenticator.authenticate(c.var.db, authorization);
    if (cookieToken !== undefined) await checkCookieRequest(c, cookieToken);
    if (!kinds.includes(principal.kind)) {
      throw new Forbidden(`A ${principal.kind} token may not call ${c.req.method} ${c.req.path}`);
    }
    c.set('principal', principal);
    await next();
  });
}
