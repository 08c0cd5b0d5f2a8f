/**
 * Where a request's token comes from: its `Authorization: Bearer` header, or, with none, the console's session cookie
 * (api/auth/session-cookie.ts). A header always wins, so every client but the console is served as before.
 */
import type { Context } from 'hono';
import { sessionTokenOf } from './session-cookie.js';

export interface RequestAuthorization {
  /** The Authorization value to authenticate: the header, or `Bearer <the cookie's token>`; undefined for none. */
  authorization: string | undefined;
  /** The session cookie's token when that is what authenticates the request (CSRF rules then apply). */
  cookieToken: string | undefined;
}

export function requestAuthorization(c: Context): RequestAuthorization {
  const header = c.req.header('Authorization');
  if (header !== undefined) return { authorization: header, cookieToken: undefined };
  const cookieToken = sessionTokenOf(c);
  return { authorization: cookieToken === undefined ? undefined : `Bearer ${cookieToken}`, cookieToken };
}
