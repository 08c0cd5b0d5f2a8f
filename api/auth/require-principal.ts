import { createMiddleware } from 'hono/factory';
import { Forbidden } from '../http/errors.js';
import type { AppEnv } from '../app-env.js';
import type { Principal } from './principal.js';

/** Authenticates the request and lets through only the token kinds named. */
export function requirePrincipal(...kinds: Principal['kind'][]) {
  return createMiddleware<AppEnv>(async (c, next) => {
    const principal = await c.var.services.authenticator.authenticate(c.var.db, c.req.header('Authorization'));
    if (!kinds.includes(principal.kind)) {
      throw new Forbidden(`A ${principal.kind} token may not call ${c.req.method} ${c.req.path}`);
    }
    c.set('principal', principal);
    await next();
  });
}
