import { createMiddleware } from 'hono/factory';
import type { AppEnv } from '../app-env.js';
import { Forbidden } from '../http/errors.js';
import { requirePrincipal } from './require-principal.js';

/** A node's own endpoints: its node token, or an admin. A node token for another node is refused. */
export function requireNodeAccess() {
  const authenticate = requirePrincipal('admin', 'node');
  return createMiddleware<AppEnv>(async (c, next) =>
    authenticate(c, async () => {
      const principal = c.var.principal;
      const node = c.req.param('node');
      if (principal.kind === 'node' && principal.nodeName !== node) {
        throw new Forbidden(`This token belongs to node "${principal.nodeName}", not "${node}"`);
      }
      await next();
    }),
  );
}
