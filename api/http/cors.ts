/**
 * CORS for the API (issue 18, item 6): any origin may call it with a token, as the original allowed, but never with
 * credentials: `Access-Control-Allow-Origin: *` and no `Access-Control-Allow-Credentials`, so a browser never exposes
 * to another origin's page an answer made with the console's session cookie. Preflights are answered for the headers
 * asked (the original allowed any); the API's own answer headers are exposed, so cross-origin clients can follow logs.
 * Not on the console's own paths (/ui, /docs): nothing there is for other origins.
 */
import { cors } from 'hono/cors';
import { createMiddleware } from 'hono/factory';
import type { AppEnv } from '../app-env.js';

const EXPOSED = [
  'Conductor-Log-Offset',
  'Conductor-Next-Offset',
  'Conductor-Log-Complete',
  'Conductor-Attempt',
  'Conductor-Log-Merged',
  'Retry-After',
  'Location',
  'X-Request-Id',
];

const anyOrigin = cors({
  origin: '*',
  allowMethods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
  exposeHeaders: EXPOSED,
  maxAge: 600,
});

const CONSOLE_PATH = /^\/(ui|docs)(\/|$)/;

export const apiCors = createMiddleware<AppEnv>((c, next) =>
  CONSOLE_PATH.test(c.req.path) ? next() : anyOrigin(c, next),
);
