/**
 * The headers of every answer under /ui and /docs (issue 18, item 2): a Content-Security-Policy that lets the page
 * load and call only its own origin and run no inline script or style, no framing, no MIME sniffing, and no Referer
 * (a job's page URL names the job).
 */
import { createMiddleware } from 'hono/factory';
import type { AppEnv } from '../app-env.js';

export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "object-src 'none'",
].join('; ');

export const consoleSecurityHeaders = createMiddleware<AppEnv>(async (c, next) => {
  await next();
  c.res.headers.set('Content-Security-Policy', CONTENT_SECURITY_POLICY);
  c.res.headers.set('X-Content-Type-Options', 'nosniff');
  c.res.headers.set('Referrer-Policy', 'no-referrer');
  c.res.headers.set('X-Frame-Options', 'DENY');
});
