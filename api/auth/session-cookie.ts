/**
 * The web console's session: a cookie that holds the token it was signed in with (issue 18, item 2). HttpOnly (no
 * script reads it), SameSite=Strict (no other site's page sends it), Path=/ (the console calls the API's paths), and
 * Secure, except over plain http to a loopback address, where browsers keep Secure cookies from http pages out: there
 * it is named `conductor_session`; everywhere else `__Host-conductor_session`, which a browser accepts only Secure,
 * from the host itself, with Path=/ and no Domain (no sibling subdomain can set or shadow it).
 *
 * The token is looked up again at every request (through the authenticator's short cache), so a revoked token's
 * session ends at its next request; the cookie itself carries nothing but the token.
 */
import type { Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';

const NAME = 'conductor_session';
/** `__Host-` + NAME: the name hono's `prefix: 'host'` gives it. */
const HOST_NAME = `__Host-${NAME}`;

// Browsers treat these as "potentially trustworthy" over http (W3C Secure Contexts, §3.1).
const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]', 'localhost']);

/** Whether the request reached the app over plain http to a loopback address: the one case without Secure. */
function plainLoopback(c: Context): boolean {
  const url = new URL(c.req.url);
  return url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname);
}

/**
 * Whether a page of `origin` (its `Origin` header) can keep the session cookie: https, or plain http to a loopback
 * address (the one case it is not Secure); a browser drops a Secure cookie set for a plain http page elsewhere.
 */
export function keepsSessionCookie(origin: string): boolean {
  const url = URL.canParse(origin) ? new URL(origin) : undefined;
  return url?.protocol === 'https:' || (url?.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname));
}

/**
 * The session cookie's token, or undefined. The plain name is read only over plain loopback http, where it is the
 * one set; elsewhere only the `__Host-` one counts (the plain name could have been set by a sibling subdomain).
 */
export function sessionTokenOf(c: Context): string | undefined {
  const token = getCookie(c, HOST_NAME) ?? (plainLoopback(c) ? getCookie(c, NAME) : undefined);
  return token || undefined;
}

/** Sets the session cookie to `token` on the answer: a browser session cookie (gone when the browser closes). */
export function setSessionCookie(c: Context, token: string): void {
  const options = { httpOnly: true, sameSite: 'Strict', path: '/' } as const;
  if (plainLoopback(c)) setCookie(c, NAME, token, options);
  else setCookie(c, NAME, token, { ...options, secure: true, prefix: 'host' });
}

/** Clears the session cookie (both names: a host reached both ways may have set either). */
export function clearSessionCookie(c: Context): void {
  deleteCookie(c, NAME, { path: '/', httpOnly: true, sameSite: 'Strict' });
  if (!plainLoopback(c)) deleteCookie(c, NAME, { path: '/', secure: true, prefix: 'host' });
}
