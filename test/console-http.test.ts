/**
 * The web console's server side over HTTP, in-process (issue 18): its pages and the API reference served from the
 * build with their security headers, sign-in with a session cookie, the cookie accepted by the API only from the
 * console's own origin (CSRF), revocation, sign-out, and CORS without credentials. The browser's view of the same is
 * test/console.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../api/app.js';
import { CONTENT_SECURITY_POLICY } from '../api/console/security-headers.js';
import { ADMIN_TOKEN, createTestApp, validJob, type TestApp } from './helpers/test-app.js';

const HERE = 'http://127.0.0.1:8080';
const ELSEWHERE = 'http://127.0.0.1:9999';

describe('the web console over HTTP', () => {
  let t: TestApp;
  let userToken: string;
  beforeAll(async () => {
    t = await createTestApp({ name: 'pglite', skip: undefined });
    userToken = await t.token('user', 'physics', 'alice');
  });
  afterAll(() => t?.close());

  const request = (path: string, init: RequestInit & { headers?: Record<string, string> } = {}, base = HERE) =>
    t.app.request(`${base}${path}`, init);

  /** Signs in with `token` from the console's page; answers the cookie pair and the CSRF token. */
  async function signIn(token: string, base = HERE): Promise<{ cookie: string; csrf: string }> {
    const response = await request(
      '/ui/session',
      {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Origin: base },
        body: JSON.stringify({ token }),
      },
      base,
    );
    expect(response.status).toBe(200);
    const setCookie = response.headers.get('Set-Cookie')!;
    return { cookie: setCookie.split(';')[0]!, csrf: ((await response.json()) as { csrf_token: string }).csrf_token };
  }

  describe('pages and assets', () => {
    it('answers the console page for /ui and any path under it, with a strict CSP and no inline script', async () => {
      for (const path of ['/ui', '/ui/queue', '/ui/jobs/42', '/ui/login?next=%2Fui']) {
        const response = await request(path);
        expect(response.status, path).toBe(200);
        expect(response.headers.get('Content-Type')).toMatch(/^text\/html/);
        expect(response.headers.get('Content-Security-Policy')).toBe(
          "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'",
        );
        expect(response.headers.get('X-Content-Type-Options')).toBe('nosniff');
        expect(response.headers.get('Referrer-Policy')).toBe('no-referrer');
        const html = await response.text();
        expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
        expect(html).not.toMatch(/\sstyle=/);
      }
    });

    it('serves the scripts and styles it links with their types, cached for good; an unknown one is a 404', async () => {
      const html = await (await request('/ui')).text();
      const links = [...html.matchAll(/(?:src|href)="(\/ui\/assets\/[^"]+)"/g)].map((match) => match[1]!);
      expect(links.some((link) => link.endsWith('.js'))).toBe(true);
      expect(links.some((link) => link.endsWith('.css'))).toBe(true);
      for (const link of links) {
        const response = await request(link);
        expect(response.status, link).toBe(200);
        expect(response.headers.get('Content-Type')).toMatch(link.endsWith('.js') ? /^text\/javascript/ : /^text\/css/);
        expect(response.headers.get('Cache-Control')).toContain('immutable');
      }
      const script = links.find((link) => link.endsWith('.js'))!;
      const zipped = await request(script, { headers: { 'Accept-Encoding': 'gzip' } });
      expect(zipped.headers.get('Content-Encoding')).toBe('gzip');
      const missing = await request('/ui/assets/nothing-here.js');
      expect(missing.status).toBe(404);
      expect(missing.headers.get('Content-Type')).toMatch(/^application\/problem\+json/);
      expect((await request('/ui/assets/..%2F..%2Fpackage.json')).status).toBe(404);
    });

    it('serves /docs from its own files: every script, style and image it names is on this origin', async () => {
      const response = await request('/docs');
      expect(response.status).toBe(200);
      expect(response.headers.get('Content-Security-Policy')).toContain("script-src 'self'");
      const html = await response.text();
      const links = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((match) => match[1]!);
      expect(links.length).toBeGreaterThan(2);
      for (const link of links) {
        expect(link, link).toMatch(/^\/(docs\/|openapi\.json)/);
        const asset = await request(link);
        expect(asset.status, link).toBe(200);
      }
      const init = await (await request('/docs/docs-init.js')).text();
      expect(init).toContain("url: '/openapi.json'");
      expect(init).toContain('validatorUrl: null');
    });
  });

  it('answers 503 console_not_built for /ui and /docs on a host given no build, and the API as ever', async () => {
    const bare = createApp({ db: t.database.db, queue: t.queue, adminToken: ADMIN_TOKEN });
    for (const path of ['/ui', '/ui/queue', '/docs']) {
      const response = await bare.request(`${HERE}${path}`);
      expect(response.status, path).toBe(503);
      expect((await response.json()).code).toBe('console_not_built');
    }
    expect((await bare.request(`${HERE}/openapi.json`)).status).toBe(200);
  });

  describe('sign-in', () => {
    it('sets an HttpOnly, SameSite=Strict session cookie; plain and unprefixed only over loopback http', async () => {
      const response = await request('/ui/session', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Origin: HERE },
        body: JSON.stringify({ token: userToken }),
      });
      expect(response.status).toBe(200);
      expect(await response.json()).toMatchObject({ kind: 'user', account: 'physics', user: 'alice' });
      const cookie = response.headers.get('Set-Cookie')!;
      expect(cookie).toMatch(/^conductor_session=/);
      expect(cookie).toMatch(/; HttpOnly/);
      expect(cookie).toMatch(/; SameSite=Strict/);
      expect(cookie).toMatch(/; Path=\//);
      expect(cookie).not.toMatch(/Secure/);
    });

    it('names it __Host- and makes it Secure anywhere else', async () => {
      const base = 'https://conductor.example';
      const response = await request(
        '/ui/session',
        {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', Origin: base },
          body: JSON.stringify({ token: userToken }),
        },
        base,
      );
      const cookie = response.headers.get('Set-Cookie')!;
      expect(cookie).toMatch(/^__Host-conductor_session=/);
      expect(cookie).toMatch(/; Secure/);
      expect(cookie).toMatch(/; HttpOnly/);
      // Behind a TLS proxy, which reaches the app over plain http to a name, too: only loopback is exempt.
      const proxied = await request(
        '/ui/session',
        {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', Origin: 'https://conductor.lan' },
          body: JSON.stringify({ token: userToken }),
        },
        'http://conductor.lan',
      );
      expect(proxied.headers.get('Set-Cookie')).toMatch(/^__Host-conductor_session=.*; Secure/);
    });

    it("answers its session with the console pages' security headers, kept by no cache", async () => {
      const signedIn = await request('/ui/session', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Origin: HERE },
        body: JSON.stringify({ token: userToken }),
      });
      const cookie = signedIn.headers.get('Set-Cookie')!.split(';')[0]!;
      const read = await request('/ui/session', { headers: { Cookie: cookie, 'Sec-Fetch-Site': 'same-origin' } });
      const none = await request('/ui/session');
      for (const [what, response] of Object.entries({ signedIn, read, none })) {
        expect(response.headers.get('Content-Security-Policy'), what).toBe(CONTENT_SECURITY_POLICY);
        expect(response.headers.get('X-Content-Type-Options'), what).toBe('nosniff');
        expect(response.headers.get('Cache-Control'), what).toBe('no-store');
      }
      expect([signedIn.status, read.status, none.status]).toEqual([200, 200, 401]);
    });

    it('refuses a sign-in from a plain http page not on loopback, whose browser would drop the Secure cookie', async () => {
      const post = (origin: string) =>
        request(
          '/ui/session',
          {
            method: 'POST',
            headers: { 'Content-Type': 'application/json', Origin: origin },
            body: JSON.stringify({ token: userToken }),
          },
          origin,
        );
      const plain = await post('http://conductor.lan');
      expect(plain.status).toBe(400);
      expect(plain.headers.get('Set-Cookie')).toBeNull();
      expect(await plain.json()).toMatchObject({ code: 'insecure_origin', detail: expect.stringContaining('https') });
      for (const loopback of ['http://localhost:8080', 'http://[::1]:8080']) {
        expect((await post(loopback)).status, loopback).toBe(200);
      }
    });

    it('refuses a node token, an unknown one, a missing one, a non-JSON body and another origin', async () => {
      const nodeToken = await t.token('node', 'n1');
      const post = (body: string, headers: Record<string, string> = {}) =>
        request('/ui/session', {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', Origin: HERE, ...headers },
          body,
        });
      const node = await post(JSON.stringify({ token: nodeToken }));
      expect(node.status).toBe(403);
      expect(node.headers.get('Set-Cookie')).toBeNull();
      expect((await post(JSON.stringify({ token: 'no-such-token' }))).status).toBe(401);
      const missing = await post('{}');
      expect(missing.status).toBe(422);
      expect((await missing.json()).errors[0].field).toBe('token');
      expect((await post(`token=${userToken}`, { 'Content-Type': 'application/x-www-form-urlencoded' })).status).toBe(
        415,
      );
      const foreign = await post(JSON.stringify({ token: userToken }), { Origin: ELSEWHERE });
      expect(foreign.status).toBe(403);
      expect(foreign.headers.get('Set-Cookie')).toBeNull();
    });

    it('answers who is signed in and the CSRF token; 401 without a session', async () => {
      const { cookie, csrf } = await signIn(userToken);
      const response = await request('/ui/session', { headers: { Cookie: cookie } });
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({
        kind: 'user',
        name: 'user-physics',
        account: 'physics',
        user: 'alice',
        csrf_token: csrf,
      });
      expect((await request('/ui/session')).status).toBe(401);
    });
  });

  describe('the API with the session cookie', () => {
    it('reads as the signed-in token: a user sees its account only', async () => {
      await t.submit(validJob({ account: 'physics', name: 'mine' }));
      await t.submit(validJob({ account: 'chemistry', name: 'theirs' }));
      const { cookie } = await signIn(userToken);
      const response = await request('/v1/jobs', { headers: { Cookie: cookie, 'Sec-Fetch-Site': 'same-origin' } });
      expect(response.status).toBe(200);
      const names = ((await response.json()) as { jobs: { name: string; account: string }[] }).jobs.map(
        (job) => job.account,
      );
      expect(names.length).toBeGreaterThan(0);
      expect(new Set(names)).toEqual(new Set(['physics']));
    });

    it('writes only with the CSRF token and from its own origin', async () => {
      const id = await t.submit(validJob({ account: 'physics' }));
      const { cookie, csrf } = await signIn(userToken);
      const cancel = (headers: Record<string, string>) =>
        request(`/v1/jobs/${id}/cancel`, { method: 'POST', headers: { Cookie: cookie, ...headers } });
      const refusals = [
        await cancel({ Origin: HERE }),
        await cancel({ Origin: HERE, 'X-CSRF-Token': 'x'.repeat(43) }),
        await cancel({ Origin: ELSEWHERE, 'X-CSRF-Token': csrf }),
        await cancel({ 'X-CSRF-Token': csrf }),
        await cancel({ 'Sec-Fetch-Site': 'same-site', 'X-CSRF-Token': csrf }),
        await cancel({ Origin: 'null', 'X-CSRF-Token': csrf }),
      ];
      for (const refused of refusals) {
        expect(refused.status).toBe(403);
        expect((await refused.json()).code).toBe('cross_site_refused');
      }
      expect((await t.call('GET', `/v1/jobs/${id}`).then((r) => r.json())).state).toBe('PENDING');
      const done = await cancel({ Origin: HERE, 'X-CSRF-Token': csrf });
      expect(done.status).toBe(200);
      expect((await t.call('GET', `/v1/jobs/${id}`).then((r) => r.json())).state).toBe('CANCELLED');
    });

    it('refuses reads from another origin with the cookie', async () => {
      const { cookie } = await signIn(userToken);
      const foreign: Record<string, string>[] = [
        { Origin: ELSEWHERE },
        { 'Sec-Fetch-Site': 'cross-site' },
        { 'Sec-Fetch-Site': 'same-site' },
      ];
      for (const headers of foreign) {
        const response = await request('/v1/jobs', { headers: { Cookie: cookie, ...headers } });
        expect(response.status).toBe(403);
        expect(response.headers.get('Access-Control-Allow-Credentials')).toBeNull();
      }
    });

    it('lets a bearer header win over the cookie, as before', async () => {
      const { cookie } = await signIn(userToken);
      const bad = await request('/v1/jobs', { headers: { Cookie: cookie, Authorization: 'Bearer not-a-token' } });
      expect(bad.status).toBe(401);
      // A bearer write from any origin needs no CSRF token: its token is the proof.
      const id = await t.submit();
      const cancel = await request(`/v1/jobs/${id}/cancel`, {
        method: 'POST',
        headers: { Cookie: cookie, Authorization: `Bearer ${ADMIN_TOKEN}`, Origin: ELSEWHERE },
      });
      expect(cancel.status).toBe(200);
    });

    it('ends the session of a revoked token at its next request, and forgets its cookie', async () => {
      const created = await (
        await t.call('POST', '/v1/tokens', {
          body: { name: 'soon-revoked', kind: 'user', account: 'physics', user: 'bob' },
        })
      ).json();
      const { cookie } = await signIn(created.token);
      const headers = { Cookie: cookie, 'Sec-Fetch-Site': 'same-origin' };
      expect((await request('/v1/jobs', { headers })).status).toBe(200);
      expect((await t.call('DELETE', `/v1/tokens/${created.id}`)).status).toBe(200);
      expect((await request('/v1/jobs', { headers })).status).toBe(401);
      const session = await request('/ui/session', { headers });
      expect(session.status).toBe(401);
      expect(session.headers.get('Set-Cookie')).toMatch(/^conductor_session=;.*Max-Age=0/);
    });

    it('signs out: the cookie is cleared', async () => {
      const { cookie } = await signIn(userToken);
      const out = await request('/ui/session', { method: 'DELETE', headers: { Cookie: cookie, Origin: HERE } });
      expect(out.status).toBe(204);
      expect(out.headers.get('Set-Cookie')).toMatch(/^conductor_session=;.*Max-Age=0/);
      const foreign = await request('/ui/session', {
        method: 'DELETE',
        headers: { Cookie: cookie, Origin: ELSEWHERE },
      });
      expect(foreign.status).toBe(403);
    });
  });

  describe('CORS', () => {
    it('answers a preflight from any origin, without credentials', async () => {
      const response = await request('/v1/jobs', {
        method: 'OPTIONS',
        headers: {
          Origin: ELSEWHERE,
          'Access-Control-Request-Method': 'POST',
          'Access-Control-Request-Headers': 'authorization,content-type,idempotency-key',
        },
      });
      expect(response.status).toBe(204);
      expect(response.headers.get('Access-Control-Allow-Origin')).toBe('*');
      expect(response.headers.get('Access-Control-Allow-Methods')).toContain('POST');
      expect(response.headers.get('Access-Control-Allow-Headers')?.toLowerCase()).toContain('idempotency-key');
      expect(response.headers.get('Access-Control-Allow-Credentials')).toBeNull();
    });

    it('lets any origin read a token-authenticated answer, and the log headers', async () => {
      const response = await request('/v1/jobs', {
        headers: { Origin: ELSEWHERE, Authorization: `Bearer ${ADMIN_TOKEN}` },
      });
      expect(response.status).toBe(200);
      expect(response.headers.get('Access-Control-Allow-Origin')).toBe('*');
      expect(response.headers.get('Access-Control-Allow-Credentials')).toBeNull();
      expect(response.headers.get('Access-Control-Expose-Headers')).toContain('Conductor-Next-Offset');
    });

    it('gives the console paths no CORS at all', async () => {
      for (const path of ['/ui', '/ui/session', '/docs']) {
        const response = await request(path, { headers: { Origin: ELSEWHERE } });
        expect(response.headers.get('Access-Control-Allow-Origin'), path).toBeNull();
      }
    });
  });
});
