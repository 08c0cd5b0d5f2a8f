/**
 * One log line per request, once it is answered: method, the route's pattern (as the metrics name it), status,
 * duration, and who asked (the principal's kind and name, never its token). Every line logged while the request is
 * served, through `c.var.logger`, carries its request id.
 */
import type { MiddlewareHandler } from 'hono';
import type { Logger } from '../../shared/log/logger.js';
import type { AppEnv } from '../app-env.js';
import { routeOf } from '../metrics/metrics-route.js';

export function requestLog(logger: Logger): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const started = performance.now();
    const log = logger.child({ request_id: c.get('requestId') });
    c.set('logger', log);
    try {
      await next();
    } finally {
      const principal = c.get('principal') as AppEnv['Variables']['principal'] | undefined;
      log.info('request', {
        method: c.req.method,
        route: routeOf(c),
        status: c.res.status,
        duration_ms: Math.round((performance.now() - started) * 1000) / 1000,
        ...(principal && { principal_kind: principal.kind, principal_name: principal.name }),
      });
    }
  };
}
