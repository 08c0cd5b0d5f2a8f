/**
 * CSRF protection for the console's cookie session (issue 18, item 2). A cookie is sent by the browser whoever's page
 * made the request, so a request authenticated by it must also prove it came from the console:
 * - an `X-CSRF-Token` header equal to HMAC-SHA256(key = the session's token, "conductor-csrf-v1"), base64url: only a
 *   page that could read GET /ui/session (same origin: the answer carries no CORS credentials) knows it; and
 * - the browser's own word that the request is same-origin: `Origin` naming this host, or, with no Origin,
 *   `Sec-Fetch-Site: same-origin`. A request with neither is not a browser's, and carries no cookie of ours honestly.
 * Derived rather than stored, so that both hosts check it with crypto.subtle alone and nothing is kept per session.
 * Borrowed from OWASP's CSRF cheat sheet ("Signed Double-Submit Cookie" and "Verifying Origin With Standard Headers").
 */
import type { Context } from 'hono';
import { CrossSiteRefused } from '../http/errors.js';

export const CSRF_HEADER = 'X-CSRF-Token';
const LABEL = new TextEncoder().encode('conductor-csrf-v1');
const UNSAFE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** The CSRF token of the session holding `token`: 43 base64url characters. */
export async function csrfTokenOf(token: string): Promise<string> {
  const key = await crypto.subtle.importKey(
    'raw',
    new TextEncoder().encode(token),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['sign'],
  );
  const mac = new Uint8Array(await crypto.subtle.sign('HMAC', key, LABEL));
  return btoa(String.fromCharCode(...mac))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');
}

/**
 * Whether the browser says the request comes from a page of this very origin. The host is compared, not the scheme:
 * behind a TLS-terminating proxy the app sees http while the page's Origin says https.
 */
export function sameOrigin(c: Context): boolean {
  const origin = c.req.header('Origin');
  if (origin !== undefined) {
    try {
      return new URL(origin).host === new URL(c.req.url).host;
    } catch {
      return false; // "null" (a sandboxed or opaque origin), or garbage
    }
  }
  return c.req.header('Sec-Fetch-Site') === 'same-origin';
}

/**
 * Refuses a cookie-authenticated request that is not the console's own.
 * - any method: from another origin (Origin or Sec-Fetch-Site say so); a same-origin GET with neither header (a
 *   link followed, a download) passes.
 * - unsafe methods: also without the same-origin headers, or without the right X-CSRF-Token.
 * @throws CrossSiteRefused (403)
 */
export async function checkCookieRequest(c: Context, token: string): Promise<void> {
  const site = c.req.header('Sec-Fetch-Site');
  const crossSite = (c.req.header('Origin') !== undefined || (site !== undefined && site !== 'none')) && !sameOrigin(c);
  if (crossSite) throw new CrossSiteRefused('The console session is not usable from another origin');
  if (!UNSAFE_METHODS.has(c.req.method)) return;
  if (!sameOrigin(c)) throw new CrossSiteRefused('A write with the console session must come from its own page');
  const sent = c.req.header(CSRF_HEADER);
  if (!sent || !timingSafeEqual(sent, await csrfTokenOf(token))) {
    throw new CrossSiteRefused(`A write with the console session needs its ${CSRF_HEADER} header`);
  }
}

function timingSafeEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let difference = 0;
  for (let i = 0; i < a.length; i++) difference |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return difference === 0;
}
