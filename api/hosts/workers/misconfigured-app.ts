/**
 * What a Worker whose variables are missing or invalid serves: the paths that need no service (the contract, its
 * reference page, liveness) as ever, the probes their own 503s, and every other path the 503 problem that names the
 * variables, before authentication or routing, so that whoever calls first learns what to set. The contract is the
 * real app's, built over stand-ins for its services that refuse any use: nothing reaches a service that has no
 * configuration.
 */
import { Hono } from 'hono';
import { requestId } from 'hono/request-id';
import type { Database } from '../../../shared/db/database.js';
import type { JobQueue } from '../../../shared/queue/job-queue.js';
import { createApp } from '../../app.js';
import type { AppEnv } from '../../app-env.js';
import type { StaticAssets } from '../../console/static-assets.js';
import type { FollowLeases } from '../../follows/follow-leases.js';
import type { HostMisconfigured } from '../../http/errors.js';
import { onError } from '../../http/problem.js';

// The paths of the app that touch no service, and the probes, which answer 503 in their own shapes when one fails.
const SERVED = new Set(['/openapi.json', '/docs', '/livez', '/readyz', '/health']);
// The reference page's own files (api/console/console-routes.ts).
const SERVED_UNDER = '/docs/';

export function misconfiguredApp(problem: HostMisconfigured, assets?: StaticAssets): Hono<AppEnv> {
  const app = createApp({
    assets,
    db: refusing<Database>(problem),
    queue: refusing<JobQueue>(problem),
    followLeases: refusing<FollowLeases>(problem),
  });
  const gate = new Hono<AppEnv>();
  gate.use(requestId());
  gate.onError(onError);
  gate.all('*', (c) => {
    if (!SERVED.has(c.req.path) && !c.req.path.startsWith(SERVED_UNDER)) throw problem;
    return app.fetch(c.req.raw, c.env, c.executionCtx);
  });
  return gate;
}

/** A service that is not configured: reading any of its members throws `problem`. Not a promise (no `then`). */
function refusing<T extends object>(problem: HostMisconfigured): T {
  return new Proxy({} as T, {
    get(_target, key) {
      if (key === 'then') return undefined;
      throw problem;
    },
  });
}
